/**
 * The worker's behaviour under Node (wasm), through the same pump the browser's worker uses: a training run
 * posts its events in order and learns; Pause, "step once" and breakpoints stop it where the page expects,
 * and Resume goes on exactly as if it had not paused; requests are served while it trains.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../src/worker/protocol';
import { Harness, liveTensors, pretrainRun } from './harness';

const open: Harness[] = [];
function harness(): Harness {
  const h = new Harness();
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open.splice(0)) h.dispose();
});

/** The run's events only (what the page's reducer receives for it), by type. */
const runTypes = (events: Event[], runId: string) => events.filter((e) => 'runId' in e && e.runId === runId).map((e) => e.type);

describe('a training run in the worker session', () => {
  it('posts its events in order, every step once, and the loss falls', async () => {
    const h = harness();
    await h.ready();
    const from = h.events.length;
    const end = await h.train(pretrainRun('r1'));
    expect(h.errors()).toEqual([]);
    expect(end).toMatchObject({ status: 'done', stepsDone: 40 });
    expect(end.wallMs).toBeGreaterThan(0);

    const types = runTypes(h.events.slice(from), 'r1');
    expect(types[0]).toBe('runStarted');
    expect(types[1]).toBe('freeze'); // the plan, announced at the first step
    expect(types.at(-1)).toBe('runEnded');
    // The page's model panel hears of the run's phase as it starts, and of the step count as it ends.
    const after = h.events.slice(from);
    expect(after[1]).toMatchObject({ type: 'modelInfo', info: { phase: 'pretrain' } });
    expect(after.at(-1)).toMatchObject({ type: 'modelInfo', info: { step: 40 } });

    const steps = h.points('r1', from).map((p) => p.step);
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Evaluations at 0, 10, 20, 30 and the last step, each after the metrics of every step before it.
    const evals = h.all('eval', from);
    expect(evals.map((e) => e.step)).toEqual([0, 10, 20, 30, 40]);
    for (const e of evals) {
      const at = h.events.indexOf(e);
      const before = h.events.slice(from, at).flatMap((x) => (x.type === 'metrics' ? x.points.map((p) => p.step) : []));
      expect(before, `metrics before the eval at ${e.step}`).toEqual(Array.from({ length: e.step }, (_, i) => i));
    }
    expect(h.all('sampleStrip', from).map((s) => s.step)).toEqual([20, 40]);

    // It learned: the held-out loss at the end well below where it started (ln of the vocabulary at random).
    const [first, last] = [evals[0].losses.val, evals.at(-1)!.losses.val];
    expect(last).toBeLessThan(first * 0.75);
    const losses = h.points('r1', from).map((p) => p.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
  });

  it('owns every tensor it makes: after runs, a sample and an export, dispose returns the count to where it was', async () => {
    const before = liveTensors();
    const h = new Harness();
    await h.ready();
    await h.train(pretrainRun('r1', { steps: 12, evalEvery: 6 }));
    await h.ask(
      { type: 'sample', requestId: 1, prompt: 'Call', chat: false, settings: { maxNewTokens: 8, temperature: 1, topK: 0, topP: 1, seed: 1 }, from: 'model' },
      'sampleDone',
    );
    await h.ask({ type: 'export', requestId: 2, from: 'model', meta: {} }, 'file');
    expect(h.errors()).toEqual([]);
    expect(liveTensors()).toBeGreaterThan(before);
    h.dispose();
    expect(liveTensors()).toBe(before);
  });
});

describe('pause and resume', () => {
  it('Pause, sent through the pump while the run trains, stops it between steps; Resume finishes it', async () => {
    const h = harness();
    await h.ready();
    const run = pretrainRun('r1', { steps: 400, evalEvery: 100, sampleEvery: 0 });
    const ended = h.next('runEnded', (e) => e.runId === 'r1');
    h.send({ type: 'train', run });
    await h.next('metrics', (m) => m.runId === 'r1' && m.points.length > 0);
    h.send({ type: 'pause' });
    const paused = await ended;
    expect(paused.status).toBe('paused');
    expect(paused.stepsDone).toBeGreaterThan(0);
    expect(paused.stepsDone).toBeLessThan(400);
    // The steps it took, each reported once, none after the pause.
    expect(h.points('r1').map((p) => p.step)).toEqual(Array.from({ length: paused.stepsDone }, (_, i) => i));

    const from = h.events.length;
    const done = await h.train(run, paused.stepsDone);
    expect(done).toMatchObject({ status: 'done', stepsDone: 400 });
    expect(h.all('runStarted', from)[0]).toMatchObject({ startStep: paused.stepsDone });
    // Resumed where it stopped: the plan is not announced again, and the steps carry on.
    expect(h.all('freeze', from)).toEqual([]);
    const resumed = h.points('r1', from);
    expect(resumed[0].step).toBe(paused.stepsDone);
    expect(resumed[0].globalStep).toBe(paused.stepsDone + 1);
    expect(resumed.at(-1)!.step).toBe(399);
    expect(h.errors()).toEqual([]);
  });

  it('a run paused by "step once" and resumed trains exactly as one that never paused', async () => {
    const straight = harness();
    await straight.ready();
    await straight.train(pretrainRun('r'));
    const interrupted = harness();
    await interrupted.ready();
    const first = await interrupted.train(pretrainRun('r', { pauseAt: 13 }));
    expect(first).toMatchObject({ status: 'paused', stepsDone: 13 });
    await interrupted.train(pretrainRun('r'), 13);

    const losses = (h: Harness) => h.points('r').map((p) => [p.step, p.loss]);
    expect(losses(interrupted)).toEqual(losses(straight));
    const evals = (h: Harness) => h.all('eval').map((e) => [e.step, e.losses.val]);
    expect(evals(interrupted)).toEqual(evals(straight));
  });

  it('a breakpoint pauses at its step and says so; early stopping pauses once the held-out loss stalls', async () => {
    const h = harness();
    await h.ready();
    const atStep = await h.train(pretrainRun('b', { breakAt: 15 }));
    expect(atStep).toMatchObject({ status: 'paused', stepsDone: 15 });
    expect(h.all('breakpoint')).toEqual([expect.objectContaining({ runId: 'b', step: 15, reason: 'step' })]);
    // Resumed past it, the breakpoint is not hit again.
    expect(await h.train(pretrainRun('b', { breakAt: 15 }), 15)).toMatchObject({ status: 'done', stepsDone: 40 });

    // A learning rate this high stalls the held-out loss at once: two evaluations without improvement.
    const from = h.events.length;
    const stalled = await h.train(pretrainRun('e', { steps: 400, lr: 0.5, evalEvery: 5, earlyStop: { patience: 2 } }));
    expect(stalled.status).toBe('paused');
    expect(stalled.stepsDone).toBeLessThan(400);
    const bp = h.all('breakpoint', from);
    expect(bp).toEqual([expect.objectContaining({ runId: 'e', reason: 'earlyStop', evals: 2 })]);
  });

  it('serves a sample between steps and refuses a second run or a new model while one trains', async () => {
    const h = harness();
    await h.ready();
    const ended = h.next('runEnded', (e) => e.runId === 'long');
    h.send({ type: 'train', run: pretrainRun('long', { steps: 100_000, evalEvery: 0, sampleEvery: 0 }) });
    await h.next('runStarted');
    const reply = await h.ask(
      { type: 'sample', requestId: 5, prompt: 'Call', chat: false, settings: { maxNewTokens: 4, temperature: 1, topK: 0, topP: 1, seed: 1 }, from: 'model' },
      'sampleDone',
    );
    expect(reply.requestId).toBe(5);
    expect(
      h.all('runEnded').filter((e) => e.runId === 'long'),
      'the run is still going',
    ).toEqual([]);
    const refused = await h.ask({ type: 'train', run: pretrainRun('second') }, 'runEnded', (e) => e.runId === 'second');
    expect(refused).toMatchObject({ status: 'error', error: { code: 'runBusy' } });
    const noModel = await h.ask({ type: 'createModel', config: { blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0, bias: false }, seed: 2 }, 'error');
    expect(noModel.error.code).toBe('runBusy');
    // The first run was not disturbed by any of it: it goes on until stopped.
    h.send({ type: 'stop' });
    const stopped = await ended;
    expect(stopped.status).toBe('stopped');
    expect(h.points('long').map((p) => p.step)).toEqual(Array.from({ length: stopped.stepsDone }, (_, i) => i));
  });
});
