/**
 * A WorkerSession under Node, as the browser's worker runs it: fed through the same message pump, its events
 * cloned on the way out as postMessage clones them (transferred buffers detached), recorded in order, and
 * awaited by what they say (never by time).
 */
import { useNodeBackend } from '../../cli/backend';
import * as tf from '../../src/engine/tf';
import type { Event, EventOf, Request, RunRequest } from '../../src/worker/protocol';
import { MessagePump } from '../../src/worker/session/pump';
import { WorkerSession, type SessionHost } from '../../src/worker/session/WorkerSession';
import type { GpuDeviceLike } from '../../src/worker/gpuGuard';
import { TEXT, TINY } from '../engine/helpers';

export { TEXT, TINY };

type Waiter = { match: (e: Event) => boolean; resolve: (e: Event) => void; from: number };

export class Harness {
  readonly events: Event[] = [];
  readonly session: WorkerSession;
  readonly pump: MessagePump;
  private waiters: Waiter[] = [];

  constructor(opts: { gpuDevice?: () => GpuDeviceLike | null } = {}) {
    const post = (e: Event, transfer: Transferable[] = []) => {
      // What the page would receive: a structured clone, with the listed buffers moved (not copied).
      const copy = structuredClone(e, { transfer: transfer as StructuredSerializeOptions['transfer'] });
      this.events.push(copy);
      for (const w of [...this.waiters]) {
        if (this.events.length - 1 >= w.from && w.match(copy)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(copy);
        }
      }
    };
    const host: SessionHost = {
      post,
      chooseBackend: async () => {
        await useNodeBackend('wasm');
        const probe = { available: true, hardware: false, detail: 'Node' };
        return { name: 'wasm', forced: true, reason: 'Node tests', probes: { webgpu: probe, webgl: probe, wasm: probe, cpu: probe } };
      },
      gpuDevice: opts.gpuDevice,
    };
    this.session = new WorkerSession(host);
    this.pump = new MessagePump(this.session, post);
  }

  send(msg: Request): void {
    this.pump.receive(msg);
  }

  /** The first event of this type (matching `pred`) posted at or after index `from` of the record (default: any). */
  next<T extends Event['type']>(type: T, pred: (e: EventOf<T>) => boolean = () => true, from = 0): Promise<EventOf<T>> {
    const match = (e: Event): boolean => e.type === type && pred(e as EventOf<T>);
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen as EventOf<T>);
    return new Promise((resolve) => this.waiters.push({ match, resolve: (e) => resolve(e as EventOf<T>), from }));
  }

  /** Send a request and wait for the event that ends it, counted from now. */
  async ask<T extends Event['type']>(msg: Request, type: T, pred: (e: EventOf<T>) => boolean = () => true): Promise<EventOf<T>> {
    const from = this.events.length;
    const reply = this.next(type, pred, from);
    this.send(msg);
    return reply;
  }

  /** The events of one type, in the order they were posted. */
  all<T extends Event['type']>(type: T, from = 0): EventOf<T>[] {
    return this.events.slice(from).filter((e): e is EventOf<T> => e.type === type);
  }

  /** Errors posted so far (a test that expects none shows them). */
  errors(): EventOf<'error'>[] {
    return this.all('error');
  }

  /** Init on wasm, the test corpus, and a fresh tiny model; resolves once the model is there. */
  async ready(seed = 1, text = TEXT): Promise<void> {
    this.send({ type: 'init', backend: 'wasm' });
    this.send({ type: 'setCorpus', name: 'verse', text });
    await this.ask({ type: 'createModel', config: TINY, seed, tokenizer: { kind: 'char' } }, 'tokenizerInfo', (e) => e.info !== null);
  }

  /** Start a run (or resume it) and wait for its end. */
  async train(run: RunRequest, startStep?: number): Promise<EventOf<'runEnded'>> {
    return this.ask({ type: 'train', run, resume: startStep === undefined ? undefined : { startStep } }, 'runEnded', (e) => e.runId === run.runId);
  }

  /** Every metrics point of a run, in order. */
  points(runId: string, from = 0): EventOf<'metrics'>['points'] {
    return this.all('metrics', from)
      .filter((m) => m.runId === runId)
      .flatMap((m) => m.points);
  }

  dispose(): void {
    this.session.dispose();
  }
}

/** A short pretraining run on the test corpus: constant learning rate, evaluations and samples on the way. */
export function pretrainRun(runId: string, over: Partial<RunRequest> = {}): RunRequest {
  return {
    runId,
    phase: 'pretrain',
    steps: 40,
    batchSize: 8,
    lr: 1e-2,
    schedule: 'constant',
    warmupSteps: 0,
    evalEvery: 10,
    evalIters: 2,
    sampleEvery: 20,
    samplePrompt: 'Call',
    seed: 7,
    freeze: { kind: 'none' },
    forgetting: false,
    fromSnapshot: false,
    promptNoise: 0,
    autosaveEvery: 0,
    ...over,
  };
}

/** Tensors alive on the backend now. */
export const liveTensors = (): number => tf.memory().numTensors;
