/**
 * The page's side of the worker protocol: starts the training worker, sends requests, routes events,
 * and turns request/response pairs (export, import, sample) into promises.
 */
import type { BackendName, Event, Request, TokenWhy, WireError } from './protocol';

type Pending = { resolve: (e: Event) => void; reject: (e: WireError) => void; onToken?: (text: string, why?: TokenWhy) => void };

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

  start(backend?: BackendName): void {
    this.stop();
    const worker = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (m: MessageEvent<Event>) => this.route(m.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.failAll({ name: 'WorkerCrash', message: e.message || 'the training worker crashed' });
      this.onCrash(e.message || 'the training worker crashed');
    };
    this.worker = worker;
    this.send({ type: 'init', backend });
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

  /** Send a request that carries a requestId and wait for its answer (file, done or sampleDone). */
  request(make: (requestId: number) => Request, opts: { transfer?: Transferable[]; onToken?: (t: string, why?: TokenWhy) => void } = {}): Promise<Event> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject: (e) => reject(new WorkerError(e)), onToken: opts.onToken });
      try {
        this.send(make(requestId), opts.transfer);
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
        p?.resolve(e);
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
