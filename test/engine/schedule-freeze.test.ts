import { describe, expect, it } from 'vitest';
import { defaultCosine, lrAt, scheduleFor, validateSchedule } from '../../src/engine/train/schedule';
import { NANOGPT_RECIPES } from '../../src/engine/train/lesson';
import { depthOf, FreezePlanError, parsePlan, planChanges, trainableAt, unfreezeLevels, validatePlan } from '../../src/engine/train/freeze';

describe('schedules', () => {
  it("cosine matches nanoGPT's get_lr", () => {
    const s = { kind: 'cosine', lr: 1e-3, minLr: 1e-4, warmupSteps: 100, decaySteps: 5000 } as const;
    // get_lr(it): it < warmup → lr·(it+1)/(warmup+1)
    expect(lrAt(s, 0)).toBeCloseTo((1e-3 * 1) / 101, 12);
    expect(lrAt(s, 99)).toBeCloseTo((1e-3 * 100) / 101, 12);
    expect(lrAt(s, 100)).toBeCloseTo(1e-3, 12);
    expect(lrAt(s, 2550)).toBeCloseTo(1e-4 + 0.5 * (1e-3 - 1e-4), 12);
    expect(lrAt(s, 5000)).toBeCloseTo(1e-4, 12);
    expect(lrAt(s, 6000)).toBe(1e-4);
  });
  it("nanoGPT's recipes give its get_lr at every step of the run (and past it)", () => {
    // train.py's get_lr with config/train_shakespeare_char.py's values (learning_rate 1e-3, min_lr 1e-4,
    // warmup_iters 100) and the run's lr_decay_iters = max_iters: 2000 for baby (README's CPU command), 5000 for small.
    const getLr = (it: number, decayIters: number) => {
      const [learningRate, minLr, warmupIters] = [1e-3, 1e-4, 100];
      if (it < warmupIters) return (learningRate * (it + 1)) / (warmupIters + 1);
      if (it > decayIters) return minLr;
      const decayRatio = (it - warmupIters) / (decayIters - warmupIters);
      return minLr + 0.5 * (1.0 + Math.cos(Math.PI * decayRatio)) * (learningRate - minLr);
    };
    for (const [preset, iters, batch] of [
      ['baby', 2000, 12],
      ['small', 5000, 64],
    ] as const) {
      const r = NANOGPT_RECIPES[preset]!;
      expect(r).toMatchObject({ steps: iters, batchSize: batch, schedule: 'cosine' });
      const s = scheduleFor(r.schedule, r.steps, r.lr, r.warmupSteps);
      for (let it = 0; it <= iters + 10; it++) expect(lrAt(s, it)).toBeCloseTo(getLr(it, iters), 15);
    }
    expect(NANOGPT_RECIPES.tiny).toBeUndefined();
  });
  it('constant, with optional warmup', () => {
    expect(lrAt({ kind: 'constant', lr: 0.01 }, 7)).toBe(0.01);
    expect(lrAt({ kind: 'constant', lr: 0.01, warmupSteps: 9 }, 0)).toBeCloseTo(0.001, 12);
  });
  it("slanted triangular follows ULMFiT's formula", () => {
    const s = { kind: 'slanted', lr: 0.01, totalSteps: 1000, cutFrac: 0.1, ratio: 32 } as const;
    expect(lrAt(s, 0)).toBeCloseTo(0.01 / 32, 12);
    expect(lrAt(s, 100)).toBeCloseTo(0.01, 12); // the peak at cut = T·cut_frac
    expect(lrAt(s, 50)).toBeCloseTo((0.01 * (1 + 0.5 * 31)) / 32, 12);
    expect(lrAt(s, 999)).toBeLessThan(lrAt(s, 500));
    expect(lrAt(s, 1000)).toBeCloseTo(0.01 / 32, 12);
  });
  it('defaults to the shakespeare_char recipe and validates', () => {
    expect(defaultCosine(5000)).toEqual({ kind: 'cosine', lr: 1e-3, minLr: 1e-4, warmupSteps: 100, decaySteps: 5000 });
    expect(defaultCosine(200)).toMatchObject({ warmupSteps: 20 });
    expect(() => validateSchedule({ kind: 'constant', lr: -1 })).toThrow(/lr must be a positive number/);
  });
});

describe('freeze plans', () => {
  const L = 4;
  const keys = (s: Map<string, number>) => [...s.keys()];
  it('none, embeddings, bottom:K, top:K', () => {
    expect(keys(trainableAt({ kind: 'none' }, 0, L))).toEqual(['embeddings', 'block.0', 'block.1', 'block.2', 'block.3', 'ln_f']);
    expect(keys(trainableAt({ kind: 'embeddings' }, 0, L))).toEqual(['block.0', 'block.1', 'block.2', 'block.3', 'ln_f']);
    expect(keys(trainableAt({ kind: 'bottom', k: 2 }, 0, L))).toEqual(['block.2', 'block.3', 'ln_f']);
    expect(keys(trainableAt({ kind: 'top', k: 1 }, 0, L))).toEqual(['block.3', 'ln_f']);
  });
  it('progressive: top group first, one more every K steps, embeddings last', () => {
    expect(unfreezeLevels(L)).toEqual([['ln_f', 'block.3'], ['block.2'], ['block.1'], ['block.0'], ['embeddings']]);
    const plan = { kind: 'progressive', every: 10 } as const;
    expect(keys(trainableAt(plan, 9, L)).sort()).toEqual(['block.3', 'ln_f']);
    expect(keys(trainableAt(plan, 10, L)).sort()).toEqual(['block.2', 'block.3', 'ln_f']);
    expect(keys(trainableAt(plan, 39, L))).not.toContain('embeddings');
    expect(keys(trainableAt(plan, 40, L))).toContain('embeddings');
    expect(planChanges(plan, L, 100).map((c) => c.step)).toEqual([0, 10, 20, 30, 40]);
  });
  it('discriminative rates divide by the factor per level down', () => {
    const s = trainableAt({ kind: 'none' }, 0, L, { discriminative: 2.6 });
    expect(s.get('ln_f')).toBe(1);
    expect(s.get('block.3')).toBe(1);
    expect(s.get('block.2')).toBeCloseTo(1 / 2.6, 12);
    expect(s.get('embeddings')).toBeCloseTo(1 / 2.6 ** 4, 12);
    expect(depthOf('block.0', L)).toBe(3);
  });
  it('stages switch at their boundaries and the last runs on', () => {
    const plan = {
      kind: 'stages',
      stages: [
        { steps: 5, trainable: ['ln_f'] },
        { steps: 5, trainable: ['block.0'], lrScale: 0.5 },
      ],
    } as const;
    const p = { ...plan, stages: plan.stages.map((s) => ({ ...s, trainable: [...s.trainable] })) };
    expect(keys(trainableAt(p, 4, L))).toEqual(['ln_f']);
    expect([...trainableAt(p, 5, L)]).toEqual([['block.0', 0.5]]);
    expect([...trainableAt(p, 50, L)]).toEqual([['block.0', 0.5]]);
  });
  it('parses the CLI syntax and rejects what cannot work, naming it', () => {
    expect(parsePlan('bottom:2')).toEqual({ kind: 'bottom', k: 2 });
    expect(parsePlan('progressive:50')).toEqual({ kind: 'progressive', every: 50 });
    expect(() => parsePlan('bottom')).toThrow(FreezePlanError);
    expect(() => parsePlan('sideways:2')).toThrow(/unknown freeze plan "sideways:2"/);
    expect(() => validatePlan({ kind: 'bottom', k: 5 }, L)).toThrow(/0 ≤ K ≤ 4.*got 5/);
    expect(() => validatePlan({ kind: 'stages', stages: [{ steps: 1, trainable: ['block.9'] }] }, L)).toThrow(/unknown group block\.9/);
  });
});
