/**
 * The page's side of the worker protocol: starts the training worker, sends requests, routes events,
 * and turns request/response pairs (export, import, sample) into promises.
 */
import { REPLY_TYPE, type AskBody, type AskType, type BackendName, type Event, type Replies, type Request, type TokenWhy, type WireError } from './protocol';

/** A request waiting for its answer: the event type that answers it, and what to do with each outcome. */
type Pending = { expect: Event['type']; resolve: (e: Event) => void; reject: (e: WireError) => void; onToken?: (text: string, why?: TokenWhy) => void };

export class WorkerError extends Error {
  readonly code?: WireError['code'];
  readonly params?: Record<string, string | number>;
  constructor(e: WireError) {
    super(e.message, { cause: e.cause });
    this.name = e.name;
    this.code = e.code;
    this.params = e.params;
  }
}

export class WorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly onEvent: (e: Event) => void,
    private readonly onCrash: (message: string) => void,
  ) {}

  start(backend?: BackendName, threads?: number): void {
    this.stop();
    const worker = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (m: MessageEvent<Event>) => this.route(m.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.failAll({ name: 'WorkerCrash', message: e.message || 'the training worker crashed' });
      this.onCrash(e.message || 'the training worker crashed');
    };
    this.worker = worker;
    this.send({ type: 'init', backend, ...(threads ? { threads } : {}) });
  }

  stop(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll({ name: 'WorkerStopped', message: 'the training worker was restarted' });
  }

  send(req: Request, transfer: Transferable[] = []): void {
    if (!this.worker) throw new Error('the training worker is not running');
    this.worker.postMessage(req, transfer);
  }

  /**
   * Send a request the worker answers and wait for the answer, typed by the protocol's Replies table:
   * `request('export', {…})` resolves to the `file` event. Rejects with a WorkerError when the worker
   * answers with an error (or stops, or crashes).
   */
  request<T extends AskType>(
    type: T,
    body: AskBody<T>,
    opts: { transfer?: Transferable[]; onToken?: (t: string, why?: TokenWhy) => void } = {},
  ): Promise<Replies[T]> {
    const requestId = this.nextId++;
    // TypeScript cannot see that spreading a generic body back together with its type gives RequestOf<T>.
    const req = { ...body, type, requestId } as unknown as Request;
    return new Promise((resolve, reject) => {
      // Checked in route(): the event that resolves this promise is of the type Replies[T] names.
      this.pending.set(requestId, {
        expect: REPLY_TYPE[type],
        resolve: (e) => resolve(e as Replies[T]),
        reject: (e) => reject(new WorkerError(e)),
        onToken: opts.onToken,
      });
      try {
        this.send(req, opts.transfer);
      } catch (e) {
        this.pending.delete(requestId);
        reject(e);
      }
    });
  }

  private failAll(e: WireError): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private route(e: Event): void {
    switch (e.type) {
      case 'token':
        this.pending.get(e.requestId)?.onToken?.(e.text, e.why);
        return;
      case 'file':
      case 'done':
      case 'attentionMaps':
      case 'sampleDone': {
        const p = this.pending.get(e.requestId);
        this.pending.delete(e.requestId);
        if (p && p.expect !== e.type) p.reject({ name: 'ProtocolError', message: `the training worker answered with ${e.type}, not ${p.expect}` });
        else p?.resolve(e);
        return;
      }
      case 'error':
        if (e.requestId !== undefined && this.pending.has(e.requestId)) {
          const p = this.pending.get(e.requestId)!;
          this.pending.delete(e.requestId);
          p.reject(e.error);
          return;
        }
        this.onEvent(e);
        return;
      default:
        this.onEvent(e);
    }
  }
}
