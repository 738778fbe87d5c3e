import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { generate } from '../../src/engine/model/generate';
import { Trainer, NonFiniteError, type StepMetrics, type FreezeEvent, type EvalMetrics } from '../../src/engine/train/trainer';
import { evaluateSources, type Evaluation } from '../../src/engine/train/evaluate';
import { snapshotParams } from '../../src/engine/io/checkpoint';
import { groupOf, type GroupId } from '../../src/engine/model/params';
import type { DataSource } from '../../src/engine/data/sources';
import type { Batch } from '../../src/engine/data/corpus';
import { TEST_BACKENDS, useNodeBackend } from '../backends';
import { tinySetup } from './helpers';
import { createRng } from '../../src/engine/random';
import { preparePairs } from '../../src/engine/data/prepare';

const constant = (lr: number) => ({ kind: 'constant', lr }) as const;

describe.each(TEST_BACKENDS)('Trainer on %s', (backend) => {
  beforeAll(() => useNodeBackend(backend));

  it('lowers the loss on a learnable text', async () => {
    const { config, train, val } = tinySetup();
    const model = GPT.create(config, 1);
    const trainer = new Trainer(model, { seed: 1 });
    const losses: number[] = [];
    const evals: number[] = [];
    await trainer.run(
      { steps: 60, batchSize: 8, schedule: constant(1e-2), train, evals: [{ name: 'val', source: val }], evalEvery: 30, evalIters: 2 },
      { onStep: (m) => losses.push(m.loss), onEval: (e) => evals.push(e.losses.val) },
    );
    expect(losses).toHaveLength(60);
    expect(losses[0]).toBeGreaterThan(Math.log(config.vocabSize) - 0.3);
    const tail = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(tail).toBeLessThan(losses[0] * 0.6);
    expect(evals).toHaveLength(3); // steps 0, 30 and the end
    expect(evals[2]).toBeLessThan(evals[0]);
    trainer.dispose();
    model.dispose();
  });

  it("reports each group's weight norm at the read-back when asked (and only then)", async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 8);
    const trainer = new Trainer(model, { seed: 8 });
    const seen: StepMetrics[] = [];
    await trainer.run({ steps: 2, batchSize: 2, schedule: constant(1e-3), train, weightNorms: true }, { onStep: (m) => seen.push(m) });
    const values = await snapshotParams(model);
    const want = new Map<GroupId, number>();
    for (const [name, v] of values) want.set(groupOf(name), (want.get(groupOf(name)) ?? 0) + v.reduce((a, x) => a + x * x, 0));
    for (const [g, sq] of want) expect(seen[1].weightNorms![g]).toBeCloseTo(Math.sqrt(sq), 3);
    seen.length = 0;
    await trainer.run({ steps: 1, batchSize: 2, schedule: constant(1e-3), train }, { onStep: (m) => seen.push(m) });
    expect(seen[0].weightNorms).toBeUndefined();
    trainer.dispose();
    model.dispose();
  });

  it('reads statistics back by time, but never before readbackMinSteps steps are pending (whichever is later)', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 6);
    let readbacks = 0;
    const trainer = new Trainer(model, { seed: 6, checkDevice: async () => void readbacks++ });
    const spec = { steps: 7, batchSize: 2, schedule: constant(1e-3), train, logEvery: 1000, readbackMs: 0 };
    const seen: number[] = [];
    await trainer.run({ ...spec, readbackMinSteps: 3 }, { onStep: (m) => seen.push(m.step) });
    expect(readbacks).toBe(3); // after steps 3 and 6, and at the end
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    readbacks = 0;
    await trainer.run(spec);
    expect(readbacks).toBe(7); // time alone: every step
    trainer.dispose();
    model.dispose();
  });

  it('reads back before more than maxQueuedMs of steps (by the measured step time) would be queued', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 6);
    let readbacks = 0;
    const trainer = new Trainer(model, { seed: 6, checkDevice: async () => void readbacks++ });
    // Neither the step count nor the time would read back before the end.
    const spec = { steps: 6, batchSize: 2, schedule: constant(1e-3), train, logEvery: 1000, readbackMs: 3_600_000, readbackMinSteps: 10 };
    const seen: number[] = [];
    await trainer.run({ ...spec, maxQueuedMs: 0 }, { onStep: (m) => seen.push(m.step) });
    expect(readbacks).toBe(6); // no time to spare: every step
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    readbacks = 0;
    await trainer.run({ ...spec, maxQueuedMs: 3_600_000 });
    expect(readbacks).toBe(2); // after the first step (to measure one), then an hour's worth fits: at the end
    readbacks = 0;
    await trainer.run(spec);
    expect(readbacks).toBe(1); // no bound: at the end only
    trainer.dispose();
    model.dispose();
  });

  it('runs work between steps where it is due, after that step is reported, without changing the training', async () => {
    const { config, train } = tinySetup();
    const spec = { steps: 6, batchSize: 4, schedule: constant(1e-2), train, logEvery: 1000 };
    const plain = new Trainer(GPT.create(config, 5), { seed: 5 });
    const plainLosses: number[] = [];
    await plain.run(spec, { onStep: (m) => plainLosses.push(m.loss) });
    const model = GPT.create(config, 5);
    const trainer = new Trainer(model, { seed: 5 });
    const log: string[] = [];
    const losses: number[] = [];
    const r = await trainer.run(spec, {
      onStep: (m) => {
        log.push(`step ${m.step}`);
        losses.push(m.loss);
      },
      between: {
        due: (n) => n % 2 === 0,
        run: async (n) => {
          // the weights are those after step n - 1; a forward pass here must not disturb training
          await generate(model, [1, 2], { maxNewTokens: 2, seed: 1 });
          log.push(`between ${n}`);
        },
      },
    });
    expect(r.stepsDone).toBe(6);
    expect(log).toEqual(['step 0', 'step 1', 'between 2', 'step 2', 'step 3', 'between 4', 'step 4', 'step 5', 'between 6']);
    expect(losses).toEqual(plainLosses);
    plain.dispose();
    plain.model.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('keeps frozen parameters bit-identical and reports zero update for frozen groups', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 2);
    const before = await snapshotParams(model);
    const trainer = new Trainer(model, { seed: 2 });
    const metrics: StepMetrics[] = [];
    await trainer.run({ steps: 8, batchSize: 4, schedule: constant(1e-2), train, freeze: { kind: 'bottom', k: 2 } }, { onStep: (m) => metrics.push(m) });
    const after = await snapshotParams(model);
    for (const [name, v] of before) {
      const frozen = ['embeddings', 'block.0', 'block.1'].includes(groupOf(name));
      if (frozen) expect(after.get(name)).toEqual(v);
      else expect(after.get(name)).not.toEqual(v);
    }
    for (const m of metrics) {
      expect(m.updateNorms.embeddings).toBe(0);
      expect(m.updateNorms['block.0']).toBe(0);
      expect(m.updateNorms['block.2']).toBeGreaterThan(0);
      expect(m.updateNorms.ln_f).toBeGreaterThan(0);
    }
    trainer.dispose();
    model.dispose();
  });

  it('unfreezes progressively at exactly the configured steps, announcing each change', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 3);
    const trainer = new Trainer(model, { seed: 3 });
    const events: FreezeEvent[] = [];
    const metrics: StepMetrics[] = [];
    await trainer.run(
      { steps: 14, batchSize: 2, schedule: constant(1e-2), train, freeze: { kind: 'progressive', every: 3 } },
      { onFreezeChange: (e) => events.push(e), onStep: (m) => metrics.push(m) },
    );
    expect(events.map((e) => e.step)).toEqual([0, 3, 6, 9]);
    expect(Object.keys(events[0].trainable).sort()).toEqual(['block.2', 'ln_f']);
    expect(Object.keys(events[1].trainable).sort()).toEqual(['block.1', 'block.2', 'ln_f']);
    expect(Object.keys(events[3].trainable)).toContain('embeddings');
    expect(events[3].trainableParams).toBe([...model.params.values()].reduce((a, p) => a + p.size, 0));
    // update norms follow the plan step by step
    expect(metrics[2].updateNorms['block.1']).toBe(0);
    expect(metrics[3].updateNorms['block.1']).toBeGreaterThan(0);
    expect(metrics[8].updateNorms.embeddings).toBe(0);
    expect(metrics[9].updateNorms.embeddings).toBeGreaterThan(0);
    trainer.dispose();
    model.dispose();
  });

  it('switches learning rate and trainable set at stage boundaries', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 4);
    const trainer = new Trainer(model, { seed: 4 });
    const events: FreezeEvent[] = [];
    const metrics: StepMetrics[] = [];
    await trainer.run(
      {
        steps: 6,
        batchSize: 2,
        schedule: constant(1e-2),
        train,
        freeze: {
          kind: 'stages',
          stages: [
            { steps: 2, trainable: ['block.2'], lrScale: 1 },
            { steps: 3, trainable: ['block.0', 'ln_f'], lrScale: 0.1 },
          ],
        },
      },
      { onFreezeChange: (e) => events.push(e), onStep: (m) => metrics.push(m) },
    );
    expect(events.map((e) => [e.step, e.trainable])).toEqual([
      [0, { 'block.2': 1 }],
      [2, { 'block.0': 0.1, ln_f: 0.1 }],
    ]);
    expect(metrics[1].updateNorms['block.2']).toBeGreaterThan(0);
    expect(metrics[2].updateNorms['block.2']).toBe(0);
    expect(metrics[5].updateNorms['block.0']).toBeGreaterThan(0); // the last stage runs on
    trainer.dispose();
    model.dispose();
  });

  it('gives the same losses for the same seed', async () => {
    const run = async () => {
      const { config, train } = tinySetup();
      const model = GPT.create({ ...config, dropout: 0.1 }, 5);
      const trainer = new Trainer(model, { seed: 5 });
      const losses: number[] = [];
      await trainer.run({ steps: 5, batchSize: 4, gradAccum: 2, schedule: constant(1e-2), train }, { onStep: (m) => losses.push(m.loss) });
      trainer.dispose();
      model.dispose();
      return losses;
    };
    const a = await run();
    expect(await run()).toEqual(a);
  });

  it('does not grow tf.memory().numTensors across 50 steps, evaluation and sampling', async () => {
    const { config, train, val } = tinySetup();
    const model = GPT.create({ ...config, dropout: 0.1 }, 6);
    const trainer = new Trainer(model, { seed: 6 });
    const spec = {
      steps: 25,
      batchSize: 4,
      gradAccum: 2,
      schedule: constant(1e-3),
      train,
      freeze: { kind: 'progressive', every: 5 } as const,
      evals: [{ name: 'val', source: val }],
      evalEvery: 10,
      evalIters: 2,
      logEvery: 3,
    };
    // Warm-up creates the lasting state (optimizer moments, masks); after that nothing may accumulate.
    await trainer.run(spec);
    await generate(model, [1, 2, 3], { maxNewTokens: 5, seed: 1 });
    const start = tf.memory().numTensors;
    await trainer.run(spec);
    await trainer.run({ ...spec, freeze: { kind: 'none' } });
    await generate(model, [1, 2, 3], { maxNewTokens: 20, seed: 1, topK: 5, topP: 0.9 });
    expect(tf.memory().numTensors).toBe(start);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(start);
  });

  it('stops on a non-finite loss with a clear error and keeps the last good parameters', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 7);
    const trainer = new Trainer(model, { seed: 7 });
    await trainer.run({ steps: 2, batchSize: 2, schedule: constant(1e-2), train });
    const good = await snapshotParams(model);
    let calls = 0;
    const poisoned: DataSource = {
      sample: (B, rng) => {
        const b: Batch = train.sample(B, rng);
        // The first batch of this run has NaN loss weights, so its loss is NaN.
        return ++calls === 1 ? { ...b, w: new Float32Array(b.x.length).fill(NaN) } : b;
      },
      evalBatches: () => [],
    };
    const seen: number[] = [];
    const err = await trainer
      .run({ steps: 5, batchSize: 2, schedule: constant(1e-2), train: poisoned, logEvery: 3 }, { onStep: (m) => seen.push(m.step) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as Error).message).toMatch(/step 0: the loss became NaN.*keep their values/);
    expect(seen).toEqual([]);
    // The bad step changed nothing, and neither did steps 1-2 (good data, but after a bad step the guard stays
    // shut until the run stops at the read-back): the parameters are exactly those from before step 0, and the
    // optimizer counts only the 2 steps it took (AdamW's bias correction must not count skipped steps).
    expect(await snapshotParams(model)).toEqual(good);
    for (const slot of (await trainer.optimizer.save()).values()) expect(slot.step).toBe(2);
    calls = 0;
    const m2 = GPT.create(config, 7);
    const t2 = new Trainer(m2, { seed: 7 });
    await t2.run({ steps: 2, batchSize: 2, schedule: constant(1e-2), train });
    const err2 = await t2.run({ steps: 1, batchSize: 2, schedule: constant(1e-2), train: poisoned }).catch((e) => e);
    expect(err2).toBeInstanceOf(NonFiniteError);
    expect(await snapshotParams(m2)).toEqual(good);
    t2.dispose();
    m2.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('accumulates gradients: two micro-batches of B equal one batch of 2B', async () => {
    const { config, train } = tinySetup();
    const fixed = [train.sample(4, createRng(1)), train.sample(4, createRng(2))];
    const joined: Batch = {
      x: Int32Array.from([...fixed[0].x, ...fixed[1].x]),
      y: Int32Array.from([...fixed[0].y, ...fixed[1].y]),
      batchSize: 8,
      blockSize: fixed[0].blockSize,
    };
    const run = async (source: DataSource, batchSize: number, gradAccum: number) => {
      const model = GPT.create(config, 9);
      const trainer = new Trainer(model, { seed: 9 });
      const losses: number[] = [];
      await trainer.run({ steps: 1, batchSize, gradAccum, schedule: constant(1e-2), train: source, clip: 0 }, { onStep: (m) => losses.push(m.loss) });
      const values = await snapshotParams(model);
      trainer.dispose();
      model.dispose();
      return { losses, values };
    };
    let k = 0;
    const micro = await run({ sample: () => fixed[k++ % 2], evalBatches: () => [] }, 4, 2);
    const whole = await run({ sample: () => joined, evalBatches: () => [] }, 8, 1);
    expect(micro.losses[0]).toBeCloseTo(whole.losses[0], 5);
    for (const [n, v] of whole.values) v.forEach((x, i) => expect(micro.values.get(n)![i]).toBeCloseTo(x, 5));
  });

  it('Pause or Stop during an evaluation abandons it before the step, and on resume it runs again', async () => {
    const { config, train, val } = tinySetup();
    const model = GPT.create(config, 12);
    const trainer = new Trainer(model, { seed: 12 });
    const ctl = new AbortController();
    let calls = 0;
    // Pause arrives while the evaluation at step 4 reads its first source.
    const slow = { ...val, evalBatches: (b: number, n: number) => (++calls === 3 && ctl.abort(), val.evalBatches(b, n)) };
    const spec = {
      steps: 8,
      batchSize: 2,
      schedule: constant(1e-3),
      train,
      evals: [
        { name: 'a', source: slow },
        { name: 'b', source: val },
      ],
      evalEvery: 2,
      evalIters: 1,
    };
    const evals: number[] = [];
    const res = await trainer.run(spec, { onEval: (e) => evals.push(e.step) }, ctl.signal);
    expect(evals).toEqual([0, 2]); // step 4's evaluation is not reported
    expect(res).toMatchObject({ stepsDone: 4, aborted: true }); // and step 4 is not taken
    const resumed = await trainer.run({ ...spec, startStep: 4 }, { onEval: (e) => evals.push(e.step) });
    expect(resumed.stepsDone).toBe(8);
    expect(evals).toEqual([0, 2, 4, 6, 8]);
    trainer.dispose();
    model.dispose();
  });

  it('evaluates the forgetting curve during fine-tuning without leaving tensors behind', async () => {
    const { tok, config, train, val } = tinySetup();
    const model = GPT.create(config, 10);
    const trainer = new Trainer(model, { seed: 10 });
    const pairs = preparePairs(
      tok,
      Array.from({ length: 20 }, (_, i) => ({ prompt: `Call me ${i % 7}`, response: 'Ishmael.' })),
      config.blockSize,
    );
    const spec = {
      steps: 6,
      batchSize: 4,
      schedule: constant(1e-2),
      train: pairs.train,
      freeze: { kind: 'top', k: 1 } as const,
      evals: [
        { name: 'pairs-val', source: pairs.val },
        { name: 'corpus-val', source: val },
      ],
      evalEvery: 2,
      evalIters: 2,
    };
    await trainer.run(spec);
    const before = tf.memory().numTensors;
    const evals: Record<string, number>[] = [];
    await trainer.run(spec, { onEval: (e) => evals.push(e.losses) });
    expect(tf.memory().numTensors).toBe(before);
    expect(evals).toHaveLength(4);
    for (const e of evals) expect(Object.keys(e).sort()).toEqual(['corpus-val', 'pairs-val']);
    void train;
    trainer.dispose();
    model.dispose();
  });

  it('reports an evaluation measured ahead as its first one, instead of computing it: the same numbers, the same run after', async () => {
    const { tok, config, val } = tinySetup();
    const pairs = preparePairs(
      tok,
      Array.from({ length: 20 }, (_, i) => ({ prompt: `Call me ${i % 7}`, response: 'Ishmael.' })),
      config.blockSize,
    );
    const evals = [
      { name: 'pairs-val', source: pairs.val },
      { name: 'corpus-val', source: val },
    ];
    const spec = { steps: 4, batchSize: 4, schedule: constant(1e-2), train: pairs.train, evals, evalEvery: 2, evalIters: 2 };
    /** A run from fresh weights (seed 11): its evaluations, and how many batches the model evaluated. */
    const run = async (initialEval?: Evaluation) => {
      const model = GPT.create(config, 11);
      const trainer = new Trainer(model, { seed: 11 });
      const ahead = await evaluateSources(model, evals, 4, 2);
      let batches = 0;
      const lossAndAccuracy = model.lossAndAccuracy.bind(model);
      model.lossAndAccuracy = (...a: Parameters<GPT['lossAndAccuracy']>) => (batches++, lossAndAccuracy(...a));
      const seen: EvalMetrics[] = [];
      await trainer.run({ ...spec, initialEval }, { onEval: (e) => seen.push(e) });
      trainer.dispose();
      model.dispose();
      return { ahead, seen, batches };
    };
    const plain = await run();
    // Measured ahead on the same weights and batches: the run's own first evaluation, bit for bit.
    expect(plain.seen[0].losses).toEqual(plain.ahead!.losses);
    expect(plain.seen[0].accuracy).toEqual(plain.ahead!.accuracy);
    const given = await run(plain.ahead!);
    expect(given.seen).toEqual(plain.seen);
    // One evaluation fewer computed, of the three (steps 0, 2 and 4).
    const perEvaluation = evals.reduce((n, e) => n + e.source.evalBatches(4, 2).length, 0);
    expect(plain.batches).toBe(3 * perEvaluation);
    expect(given.batches).toBe(2 * perEvaluation);
    // What is given is what is reported at the first evaluation, and only there (the later ones are computed).
    const shifted = { losses: { 'pairs-val': 1, 'corpus-val': 2 }, accuracy: { 'pairs-val': 0.5, 'corpus-val': 0.25 } };
    const other = await run(shifted);
    expect(other.seen.map((e) => e.losses)).toEqual([shifted.losses, plain.seen[1].losses, plain.seen[2].losses]);
  });

  it('stops between steps when aborted', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 8);
    const trainer = new Trainer(model, { seed: 8 });
    const ctl = new AbortController();
    const res = await trainer.run({ steps: 100, batchSize: 2, schedule: constant(1e-3), train }, { onStep: (m) => m.step === 4 && ctl.abort() }, ctl.signal);
    expect(res).toMatchObject({ aborted: true, stepsDone: 5 });
    trainer.dispose();
    model.dispose();
  });
  it('stops at the read-back after the device reports an error, leaving no tensors behind', async () => {
    const { config, train } = tinySetup();
    const before = tf.memory().numTensors;
    const model = GPT.create(config, 9);
    let checks = 0;
    const checkDevice = async () => {
      checks++;
      if (checks === 3) throw new Error('the GPU rejected a program');
    };
    const trainer = new Trainer(model, { seed: 9, checkDevice });
    const steps: number[] = [];
    const err = await trainer
      .run({ steps: 20, batchSize: 2, schedule: constant(1e-3), train, logEvery: 2 }, { onStep: (m) => steps.push(m.step) })
      .catch((e: Error) => e);
    expect((err as Error).message).toBe('the GPU rejected a program');
    // Checked once per read-back (every 2 steps): the third read-back fails and its steps are not reported.
    expect(checks).toBe(3);
    expect(steps).toEqual([0, 1, 2, 3]);
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('lets the event loop run between steps, so a timer (a Pause message in the worker) stops a long run', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 11);
    const trainer = new Trainer(model, { seed: 11 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 30);
    const t0 = performance.now();
    const res = await trainer.run({ steps: 100_000, batchSize: 2, schedule: constant(1e-3), train, logEvery: 50 }, {}, ctl.signal);
    expect(res.aborted).toBe(true);
    expect(res.stepsDone).toBeLessThan(100_000);
    expect(performance.now() - t0).toBeLessThan(30_000);
    trainer.dispose();
    model.dispose();
  });
  it('reads statistics back by time when asked, and still reports every step in order', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 12);
    let readbacks = 0;
    const trainer = new Trainer(model, { seed: 12, checkDevice: async () => void readbacks++ }); // called once per read-back
    const steps: number[] = [];
    const spec = { steps: 40, batchSize: 2, schedule: constant(1e-3), train, logEvery: 1_000_000 };
    await trainer.run({ ...spec, readbackMs: 3_600_000 }, { onStep: (m) => steps.push(m.step) });
    expect(readbacks).toBe(1); // an hour apart: only the one at the end of the run
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i));
    readbacks = 0;
    await trainer.run({ ...spec, readbackMs: 0 });
    expect(readbacks).toBe(40); // due after every step
    trainer.dispose();
    model.dispose();
  });
});
