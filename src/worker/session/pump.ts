/**
 * The worker's message pump: each request of the protocol to its WorkerSession method, by an exhaustive
 * switch. Control messages (pause, stop, forgetRun, cancelTokenizer) act at once, even while a run or a
 * tokenizer training is going; the rest are handled one at a time, in order (so nothing runs before the
 * backend is chosen). A training run is started from the queue but not awaited by it: sampling and other
 * requests are served between its steps. A prescore is background work: it runs while nothing else waits, any
 * request interrupts it (it goes on once the queue is idle again, from the replies it had sampled: run/scoring.ts),
 * and a run drops it (and scores on from those replies). A request that fails is answered with an error event
 * carrying its requestId (the page's client rejects that request's promise).
 */
import { toWireError, type PostEvent, type Request, type RequestOf } from '../protocol';
import type { WorkerSession } from './WorkerSession';

type Work = () => Promise<void> | void;

export class MessagePump {
  private queue: Promise<void> = Promise.resolve();
  /** Requests in the queue not yet handled: background work resumes only when none is left. */
  private waiting = 0;
  /** The background request (a prescore) still to finish, and the controller of its attempt under way. */
  private background: RequestOf<'prescore'> | null = null;
  private backgroundCtl: AbortController | null = null;

  constructor(
    private readonly session: WorkerSession,
    private readonly post: PostEvent,
  ) {}

  receive(msg: Request): void {
    const s = this.session;
    switch (msg.type) {
      case 'pause':
        return this.now(msg, () => s.pause());
      case 'stop':
        return this.now(msg, () => s.stop());
      case 'forgetRun':
        return this.now(msg, () => s.forgetRun(msg));
      case 'cancelTokenizer':
        return this.now(msg, () => s.cancelTokenizer());
      case 'train':
        return this.startInOrder(msg, () => s.train(msg));
      case 'init':
        return this.inOrder(msg, () => s.init(msg));
      case 'setCorpus':
        return this.inOrder(msg, () => s.setCorpus(msg));
      case 'setPairs':
        return this.inOrder(msg, () => s.setPairs(msg));
      case 'createModel':
        return this.inOrder(msg, () => s.createModel(msg));
      case 'sample':
        return this.inOrder(msg, () => s.sample(msg));
      case 'export':
        return this.inOrder(msg, () => s.export(msg));
      case 'attention':
        return this.inOrder(msg, () => s.attention(msg));
      case 'import':
        return this.inOrder(msg, () => s.import(msg));
      case 'saveSession':
        return this.inOrder(msg, () => s.saveSession(msg));
      case 'loadSession':
        return this.inOrder(msg, () => s.loadSession(msg));
      case 'prescore':
        // The latest settings win: an attempt with older ones gives way, and this one starts once the queue is idle.
        this.background = msg;
        this.backgroundCtl?.abort();
        return this.resumeBackground();
      default: {
        const never: never = msg;
        this.post({ type: 'error', error: toWireError(new Error(`unknown message ${JSON.stringify(never)}`)) });
      }
    }
  }

  /**
   * Settles once every request received so far has been handled (a run started from the queue may go on, and so
   * may a prescore resumed after them).
   */
  idle(): Promise<void> {
    return this.queue;
  }

  private now(msg: Request, work: Work): void {
    void this.settle(msg, work);
  }

  /** Handled when its turn comes; background work under way gives way to it (within a forward pass) and resumes after. */
  private inOrder(msg: Request, work: Work): void {
    this.waiting++;
    this.backgroundCtl?.abort();
    this.queue = this.queue
      .then(() => this.settle(msg, work))
      .then(() => {
        this.waiting--;
        this.resumeBackground();
      });
  }

  /**
   * Started when its turn comes, not waited for: the queue moves on while the run trains. A run drops the
   * background work (it scores for itself).
   */
  private startInOrder(msg: Request, work: Work): void {
    this.background = null;
    this.backgroundCtl?.abort();
    this.queue = this.queue.then(() => {
      void this.settle(msg, work);
    });
  }

  /** Queue the background request's next attempt, if there is one and nothing else is waiting or under way. */
  private resumeBackground(): void {
    const msg = this.background;
    if (!msg || this.waiting > 0 || this.backgroundCtl) return;
    const ctl = new AbortController();
    this.backgroundCtl = ctl;
    this.queue = this.queue.then(async () => {
      let finished = true; // a failure is reported once, not retried
      await this.settle(msg, async () => {
        finished = await this.session.prescore(msg, ctl.signal);
      });
      this.backgroundCtl = null;
      if (finished && this.background === msg) this.background = null;
      // Interrupted by newer settings (nothing waiting): start again with them; by a request: it resumes after it.
      this.resumeBackground();
    });
  }

  /** Run the work; a failure, thrown or rejected, becomes the request's error event. */
  private async settle(msg: Request, work: Work): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.post({ type: 'error', requestId: 'requestId' in msg ? msg.requestId : undefined, error: toWireError(e) });
    }
  }
}
