import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/engine/tf';
import { GPT } from '../../src/engine/model/gpt';
import { LoraAdapters, loraParamCount, parseLoraTargets, validateLora, weightsFingerprint } from '../../src/engine/model/lora';
import { exportAdapter, exportMerged, isAdapterFile, loadAdapter } from '../../src/engine/io/adapter';
import { modelFromCheckpoint, readCheckpoint, snapshotParams } from '../../src/engine/io/checkpoint';
import { Trainer } from '../../src/engine/train/trainer';
import { readSession, saveSession } from '../../src/engine/io/session';
import { TEST_BACKENDS, useNodeBackend } from '../backends';
import { tinySetup } from './helpers';

const constant = (lr: number) => ({ kind: 'constant', lr }) as const;

/** Logits of a fixed batch, read back. */
async function logitsOf(model: GPT, ids: number[][]): Promise<Float32Array> {
  const x = tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');
  const y = model.forward(x);
  const v = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return v;
}

const IDS = [
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
  [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3],
];

describe.each(TEST_BACKENDS)('LoRA on %s', (backend) => {
  beforeAll(() => useNodeBackend(backend));

  it('checks its settings with clear errors', () => {
    expect(() => validateLora({ rank: 0, alpha: 16, targets: 'attn' })).toThrow(/rank must be a whole number from 1 to 64, got 0/);
    expect(() => validateLora({ rank: 65, alpha: 16, targets: 'attn' })).toThrow(/from 1 to 64/);
    expect(() => validateLora({ rank: 8, alpha: 0, targets: 'attn' })).toThrow(/alpha must be a number > 0/);
    expect(parseLoraTargets('attn')).toBe('attn');
    expect(parseLoraTargets('mlp,attn')).toBe('attn,mlp');
    expect(() => parseLoraTargets('mlp')).toThrow(/use attn or attn,mlp/);
  });

  it('equals the base model at step 0, and adapter counts are r·(in+out) per layer', async () => {
    const { config } = tinySetup();
    const model = GPT.create(config, 1);
    const before = await logitsOf(model, IDS);
    model.setLora(LoraAdapters.create(config, { rank: 4, alpha: 8, targets: 'attn,mlp' }, 7));
    const after = await logitsOf(model, IDS);
    expect(Array.from(after)).toEqual(Array.from(before));
    const C = config.nEmbd;
    const perBlock = 4 * (C + 3 * C) + 4 * (C + C) + 4 * (C + 4 * C) + 4 * (4 * C + C);
    expect(model.lora!.size).toBe(config.nLayer * perBlock);
    expect(loraParamCount(config, { rank: 4, alpha: 8, targets: 'attn,mlp' })).toBe(config.nLayer * perBlock);
    model.dispose();
  });

  it('trains only the adapters: base weights bit-identical, adapters changed, loss lower, no tensors left behind', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 1);
    model.setLora(LoraAdapters.create(config, { rank: 4, alpha: 8, targets: 'attn' }, 3));
    const base = await snapshotParams(model);
    const adapters0 = await model.lora!.values();
    const trainer = new Trainer(model, { seed: 1 });
    const losses: number[] = [];
    let trainableParams = 0;
    // Warm-up run, then count tensors across a second run (the optimizer's state exists by then).
    await trainer.run({ steps: 2, batchSize: 8, schedule: constant(1e-2), train, adaptersOnly: true });
    const tensors = tf.memory().numTensors;
    await trainer.run(
      { steps: 40, batchSize: 8, schedule: constant(1e-2), train, adaptersOnly: true },
      { onStep: (m) => losses.push(m.loss), onFreezeChange: (e) => (trainableParams = e.trainableParams) },
    );
    expect(tf.memory().numTensors).toBe(tensors);
    expect(trainableParams).toBe(model.lora!.size);
    const after = await snapshotParams(model);
    for (const [name, v] of base) expect(Array.from(after.get(name)!), name).toEqual(Array.from(v));
    const adapters1 = await model.lora!.values();
    for (const [name, v] of adapters0) expect(Array.from(adapters1.get(name)!), name).not.toEqual(Array.from(v));
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    const norms = await model.lora!.updateNorms();
    expect([...norms.values()].every((n) => n > 0)).toBe(true);
    trainer.dispose();
    model.dispose();
  });

  it('refuses an adapter run on a model without adapters', async () => {
    const { config, train } = tinySetup();
    const model = GPT.create(config, 1);
    const trainer = new Trainer(model, { seed: 1 });
    await expect(trainer.run({ steps: 1, batchSize: 2, schedule: constant(1e-2), train, adaptersOnly: true })).rejects.toThrow(/needs adapters attached/);
    trainer.dispose();
    model.dispose();
  });

  it("merged export gives the unmerged model's logits to 1e-5; the adapter file reproduces it on the right base only", async () => {
    const { config, train, tok } = tinySetup();
    const model = GPT.create(config, 1);
    const baseValues = await snapshotParams(model);
    model.setLora(LoraAdapters.create(config, { rank: 2, alpha: 4, targets: 'attn,mlp' }, 5));
    const trainer = new Trainer(model, { seed: 2 });
    await trainer.run({ steps: 15, batchSize: 8, schedule: constant(2e-2), train, adaptersOnly: true });
    trainer.dispose();
    const tuned = await logitsOf(model, IDS);

    const merged = modelFromCheckpoint(readCheckpoint(await exportMerged(model, tok, { step: 15, phase: 'finetune' })));
    expect(merged.lora).toBeNull();
    const mergedLogits = await logitsOf(merged, IDS);
    let diff = 0;
    for (let i = 0; i < tuned.length; i++) diff = Math.max(diff, Math.abs(tuned[i] - mergedLogits[i]));
    expect(diff).toBeLessThan(1e-5);
    // The merge changed the weights (the adapters are not zero after training).
    expect(weightsFingerprint(await snapshotParams(merged))).not.toBe(weightsFingerprint(baseValues));

    const adapterFile = await exportAdapter(model);
    // Onto the right base: the same logits as the fine-tuned model.
    const base = GPT.create(config, 1);
    await loadAdapter(base, adapterFile);
    expect(Array.from(await logitsOf(base, IDS))).toEqual(Array.from(tuned));
    // Onto another base (here: the merged model, and a differently seeded one): refused, nothing attached.
    const other = GPT.create(config, 2);
    await expect(loadAdapter(other, adapterFile)).rejects.toThrow(/trained on another base model/);
    expect(other.lora).toBeNull();
    await expect(loadAdapter(merged, adapterFile)).rejects.toThrow(/trained on another base model/);
    // A model checkpoint is not an adapter file.
    const modelFile = await exportMerged(model, tok, { step: 15, phase: 'finetune' });
    await expect(loadAdapter(base, modelFile)).rejects.toThrow(/not a LoRA adapter file/);
    // What the page's import routes by (the header alone): adapters, a model, and bytes that are neither.
    expect(isAdapterFile(adapterFile)).toBe(true);
    expect(isAdapterFile(modelFile)).toBe(false);
    expect(isAdapterFile(new TextEncoder().encode('these are my notes, not a model'))).toBe(false);
    expect(isAdapterFile(adapterFile.subarray(0, adapterFile.length - 4))).toBe(true); // truncated: readAdapter says why
    for (const m of [model, merged, base, other]) m.dispose();
  });

  it('a session saved mid-way through a LoRA run resumes exactly (adapters, their AdamW moments, random state)', async () => {
    const { tok, config, train } = tinySetup();
    const lora = { rank: 2, alpha: 4, targets: 'attn' } as const;
    const spec = { steps: 8, batchSize: 4, schedule: constant(1e-2), train, adaptersOnly: true };
    const a = GPT.create(config, 3);
    a.setLora(LoraAdapters.create(config, lora, 9));
    const ta = new Trainer(a, { seed: 3 });
    const lossesA: number[] = [];
    await ta.run(spec, { onStep: (m) => lossesA.push(m.loss) });

    const b = GPT.create(config, 3);
    b.setLora(LoraAdapters.create(config, lora, 9));
    const tb = new Trainer(b, { seed: 3 });
    const lossesB: number[] = [];
    await tb.run({ ...spec, stopAt: 3 }, { onStep: (m) => lossesB.push(m.loss) });
    const bytes = await saveSession(b, tok, tb, { step: tb.globalStep, phase: 'finetune' }, null);
    tb.dispose();
    b.dispose();

    const { checkpoint, state } = readSession(bytes);
    expect(state.lora!.config).toEqual(lora);
    const c = modelFromCheckpoint(checkpoint);
    c.setLora(new LoraAdapters(config, state.lora!.config, state.lora!.values));
    const tc = new Trainer(c, { seed: 999 });
    tc.restore(state);
    await tc.run({ ...spec, startStep: 3 }, { onStep: (m) => lossesB.push(m.loss) });
    expect(lossesB).toEqual(lossesA);
    const [va, vc] = [await a.lora!.values(), await c.lora!.values()];
    for (const [n, v] of va) expect(Array.from(vc.get(n)!), n).toEqual(Array.from(v));
    for (const x of [ta, tc]) x.dispose();
    for (const x of [a, c]) x.dispose();
  });
});
