import { describe, expect, it } from 'vitest';
import { GPT } from '../../src/engine/model/gpt';
import { Trainer } from '../../src/engine/train/trainer';
import { readSession, saveSession } from '../../src/engine/io/session';
import { modelFromCheckpoint, snapshotParams, CheckpointError, exportCheckpoint } from '../../src/engine/io/checkpoint';
import { readSafetensors, writeSafetensors } from '../../src/engine/io/safetensors';
import { TEXT, TINY, tinySetup } from './helpers';
import { BpeTokenizer } from '../../src/engine/tokenizer/bpe';
import { trainBpe } from '../../src/engine/tokenizer/bpeTrain';

describe('resumable sessions', () => {
  it('continue training exactly as if never interrupted (weights, AdamW moments, step, random state)', async () => {
    const { tok, config, train } = tinySetup();
    const spec = {
      steps: 10,
      batchSize: 4,
      schedule: { kind: 'cosine', lr: 1e-2, minLr: 1e-3, warmupSteps: 2, decaySteps: 10 } as const,
      train,
      freeze: { kind: 'progressive', every: 3 } as const,
    };

    // uninterrupted
    const a = GPT.create(config, 3);
    const ta = new Trainer(a, { seed: 3 });
    const lossesA: number[] = [];
    await ta.run(spec, { onStep: (m) => lossesA.push(m.loss) });

    // interrupted after 4 steps, saved, restored into a new model and trainer
    const b = GPT.create(config, 3);
    const tb = new Trainer(b, { seed: 3 });
    const lossesB: number[] = [];
    await tb.run({ ...spec, stopAt: 4 }, { onStep: (m) => lossesB.push(m.loss) });
    const snapshot = await snapshotParams(b);
    const bytes = await saveSession(b, tok, tb, { step: tb.globalStep, phase: 'pretrain' }, snapshot);
    tb.dispose();
    b.dispose();

    const { checkpoint, state } = readSession(bytes);
    expect(state.globalStep).toBe(4);
    expect(state.snapshot!.get('transformer.wte.weight')).toEqual(snapshot.get('transformer.wte.weight'));
    const c = modelFromCheckpoint(checkpoint);
    const tc = new Trainer(c, { seed: 999 });
    tc.restore(state);
    await tc.run({ ...spec, startStep: 4 }, { onStep: (m) => lossesB.push(m.loss) });

    expect(lossesB).toEqual(lossesA);
    const [wa, wc] = [await snapshotParams(a), await snapshotParams(c)];
    for (const [n, v] of wa) expect(wc.get(n), n).toEqual(v);
    for (const x of [ta, tc]) x.dispose();
    for (const x of [a, c]) x.dispose();
  });

  it('writes only what resuming reads, and still reads older sessions that carry an `extra` field', async () => {
    const { tok, config } = tinySetup();
    const m = GPT.create(config, 1);
    const trainer = new Trainer(m, { seed: 1 });
    trainer.globalStep = 7;
    const bytes = await saveSession(m, tok, trainer, { step: 7, phase: 'pretrain' }, null);
    const file = readSafetensors(bytes);
    const meta = JSON.parse(file.metadata.session);
    expect(Object.keys(meta).sort()).toEqual(['globalStep', 'optimizerSteps', 'rng']);

    const old = writeSafetensors(file.tensors, { ...file.metadata, session: JSON.stringify({ ...meta, extra: {} }) });
    const { checkpoint, state } = readSession(old);
    expect(state.globalStep).toBe(7);
    expect(state).not.toHaveProperty('extra');
    expect([...checkpoint.params.keys()].sort()).toEqual([...m.params.keys()].sort());
    trainer.dispose();
    m.dispose();
  });

  it('refuses a plain model file as a session', async () => {
    const { tok, config } = tinySetup();
    const m = GPT.create(config, 1);
    const bytes = await exportCheckpoint(m, tok, { step: 0, phase: 'init' });
    expect(() => readSession(bytes)).toThrow(CheckpointError);
    expect(() => readSession(bytes)).toThrow(/not a saved session/);
    m.dispose();
  });

  it('an autosave of a BPE model restores its tokenizer', async () => {
    const bpe = await trainBpe(TEXT, { vocabSize: 320 });
    const m = GPT.create({ ...TINY, vocabSize: bpe.vocabSize }, 1);
    const trainer = new Trainer(m, { seed: 1 });
    const { checkpoint } = readSession(await saveSession(m, bpe, trainer, { step: 0, phase: 'init' }, null));
    expect(checkpoint.tokenizer).toBeInstanceOf(BpeTokenizer);
    expect((checkpoint.tokenizer as BpeTokenizer).toJSON()).toEqual(bpe.toJSON());
    trainer.dispose();
    m.dispose();
  });
});
