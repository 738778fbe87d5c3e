import { describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { evaluate, evaluateUnlessAborted } from '../../src/engine/train/evaluate';
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
