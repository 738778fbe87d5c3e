/**
 * The worker's message pump: each request of the protocol to its WorkerSession method, by an exhaustive
 * switch. Control messages (pause, stop, forgetRun, cancelTokenizer) act at once, even while a run or a
 * tokenizer training is going; the rest are handled one at a time, in order (so nothing runs before the
 * backend is chosen). A training run is started from the queue but not awaited by it: sampling and other
 * requests are served between its steps. A request that fails is answered with an error event carrying its
 * requestId (the page's client rejects that request's promise).
 */
import { toWireError, type PostEvent, type Request } from '../protocol';
import type { WorkerSession } from './WorkerSession';

type Work = () => Promise<void> | void;

export class MessagePump {
  private queue: Promise<void> = Promise.resolve();

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
      default: {
        const never: never = msg;
        this.post({ type: 'error', error: toWireError(new Error(`unknown message ${JSON.stringify(never)}`)) });
      }
    }
  }

  /** Settles once every request received so far has been handled (a run started from the queue may go on). */
  idle(): Promise<void> {
    return this.queue;
  }

  private now(msg: Request, work: Work): void {
    void this.settle(msg, work);
  }

  private inOrder(msg: Request, work: Work): void {
    this.queue = this.queue.then(() => this.settle(msg, work));
  }

  /** Started when its turn comes, not waited for: the queue moves on while the run trains. */
  private startInOrder(msg: Request, work: Work): void {
    this.queue = this.queue.then(() => {
      void this.settle(msg, work);
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
