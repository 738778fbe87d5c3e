import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { evaluate, evaluateUnlessAborted, evaluationKey, type EvalSource } from '../../src/engine/train/evaluate';
import { preparePairs } from '../../src/engine/data/prepare';
import { tinySetup } from './helpers';

describe('evaluation that an abort cuts short', () => {
  it('batch by batch, it gives what the single read-back gives (masked batches weighted by their counted targets)', async () => {
    const { tok, config, val } = tinySetup();
    const model = GPT.create(config, 3);
    const pairs = preparePairs(
      tok,
      Array.from({ length: 12 }, (_, i) => ({ prompt: `Call me ${i % 5}`, response: 'Ishmael'.slice(0, 2 + (i % 5)) })),
      config.blockSize,
    );
    for (const batches of [val.evalBatches(3, 4), pairs.train.evalBatches(3, 4)]) {
      const one = await evaluate(model, batches);
      const each = await evaluateUnlessAborted(model, batches, new AbortController().signal, async () => {});
      expect(each!.loss).toBeCloseTo(one.loss, 6);
      expect(each!.accuracy).toBeCloseTo(one.accuracy, 6);
    }
    model.dispose();
  });

  it('returns null at the first batch after the abort, having read no more, and leaves no tensors', async () => {
    const { config, val } = tinySetup();
    const model = GPT.create(config, 4);
    const batches = val.evalBatches(2, 6);
    await evaluate(model, batches); // the model's cached masks are made once
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    let betweens = 0;
    const result = await evaluateUnlessAborted(model, batches, ctl.signal, async () => {
      if (++betweens === 3) ctl.abort(); // during the third trip through the event loop: two batches read
    });
    expect(result).toBeNull();
    expect(betweens).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('the key of an evaluation', () => {
  it('is the same for the same batches and differs when a name, a size, a token or a loss weight differs', () => {
    const { tok, config, val } = tinySetup();
    const pairs = preparePairs(
      tok,
      Array.from({ length: 12 }, (_, i) => ({ prompt: `Call me ${i % 5}`, response: 'Ishmael'.slice(0, 2 + (i % 5)) })),
      config.blockSize,
    );
    const evals: EvalSource[] = [
      { name: 'pairs-train', source: pairs.train },
      { name: 'corpus-val', source: val },
    ];
    const key = evaluationKey(evals, 3, 2);
    expect(evaluationKey(evals, 3, 2)).toBe(key);
    // The same sources made again from the same data: the same batches, the same key.
    const again = preparePairs(
      tok,
      Array.from({ length: 12 }, (_, i) => ({ prompt: `Call me ${i % 5}`, response: 'Ishmael'.slice(0, 2 + (i % 5)) })),
      config.blockSize,
    );
    expect(evaluationKey([{ name: 'pairs-train', source: again.train }, evals[1]], 3, 2)).toBe(key);
    /** The sources with one batch of the first changed by `edit`. */
    const edited = (edit: (b: ReturnType<typeof pairs.train.evalBatches>[number]) => void): EvalSource[] => [
      {
        name: 'pairs-train',
        source: {
          ...pairs.train,
          evalBatches: (B, n) => {
            const batches = pairs.train.evalBatches(B, n);
            edit(batches[batches.length - 1]);
            return batches;
          },
        },
      },
      evals[1],
    ];
    const others = [
      evaluationKey(evals, 4, 2), // batch size
      evaluationKey(evals, 3, 3), // batches per source
      evaluationKey([evals[1], evals[0]], 3, 2), // order
      evaluationKey([{ ...evals[0], name: 'pairs-val' }, evals[1]], 3, 2), // a name
      evaluationKey(
        edited((b) => (b.x[b.x.length - 1] ^= 1)),
        3,
        2,
      ), // an input token
      evaluationKey(
        edited((b) => (b.y[0] ^= 1)),
        3,
        2,
      ), // a target
      evaluationKey(
        edited((b) => (b.w![b.w!.indexOf(1)] = 0)),
        3,
        2,
      ), // a loss weight
    ];
    for (const k of others) expect(k).not.toBe(key);
    expect(new Set(others).size).toBe(others.length);
  });
});
