/**
 * The worker session's files and failures under Node (wasm): a model exported and imported elsewhere is the
 * same model; an autosave kept in IndexedDB (fake-indexeddb's) and loaded into a new session trains on
 * exactly as the original; a fine-tune keeps its snapshot and its run's weights; a run that fails mid-way
 * ends with an error event and leaves a model that still works.
 */
import 'fake-indexeddb/auto';
import { QUIZ_MAX_TOKENS } from '../../src/engine/eval/knowledge';
import { afterEach, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/engine/io/checkpoint';
import { readSafetensors } from '../../src/engine/io/safetensors';
import type { Pair } from '../../src/engine/data/pairs';
import { autosave, clearAutosave, loadAutosave, type SavedUi } from '../../src/store/persist';
import { initialState } from '../../src/store/store';
import type { GpuDeviceLike } from '../../src/worker/gpuGuard';
import type { RunRequest, SampleSettings } from '../../src/worker/protocol';
import { Harness, liveTensors, pretrainRun, TEXT } from './harness';
import type { ModelOwner } from '../../src/worker/owner';
import { autosaveDue } from '../../src/worker/run/autosave';
import { cutAfterFirstSet } from '../engine/helpers';

const open: Harness[] = [];
function harness(opts?: ConstructorParameters<typeof Harness>[0]): Harness {
  const h = new Harness(opts);
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open.splice(0)) h.dispose();
  await clearAutosave();
});

const GREEDY: SampleSettings = { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 3 };

/** The weights of a model file, by name. */
function weights(bytes: ArrayBuffer): Map<string, number[]> {
  return new Map([...readCheckpoint(new Uint8Array(bytes)).params].map(([n, t]) => [n, Array.from(t.data)]));
}

let nextId = 100;
const exportFrom = async (h: Harness, from: 'model' | 'snapshot' | 'run', runId?: string) =>
  (await h.ask({ type: 'export', requestId: nextId++, from, runId, meta: {} }, 'file')).bytes;
const reply = async (h: Harness, prompt: string) =>
  (await h.ask({ type: 'sample', requestId: nextId++, prompt, chat: false, settings: GREEDY, from: 'model' }, 'sampleDone')).text;

describe('model files', () => {
  it('an exported model imported into another session is the same model, and a bad file changes nothing', async () => {
    const a = harness();
    await a.ready();
    await a.train(pretrainRun('r', { steps: 10 }));
    const file = await exportFrom(a, 'model');
    expect(readCheckpoint(new Uint8Array(file)).training).toMatchObject({ step: 10, phase: 'pretrain' });

    const b = harness();
    b.send({ type: 'init', backend: 'wasm' });
    b.send({ type: 'setCorpus', name: 'verse', text: 'other text' });
    const done = await b.ask({ type: 'import', requestId: 1, bytes: file.slice(0) }, 'done');
    expect(done).toEqual({ type: 'done', requestId: 1 });
    expect(b.all('modelInfo').at(-1)!.info).toMatchObject({ step: 10, phase: 'pretrain', config: a.all('modelInfo').at(-1)!.info!.config });
    expect(weights(await exportFrom(b, 'model'))).toEqual(weights(file));
    expect(await reply(b, 'Call me')).toBe(await reply(a, 'Call me'));

    const bad = await b.ask({ type: 'import', requestId: 2, bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]).buffer }, 'error');
    expect(bad.requestId).toBe(2);
    expect(bad.error.message.length).toBeGreaterThan(0);
    expect(weights(await exportFrom(b, 'model'))).toEqual(weights(file));
  });

  it('asks that cannot be answered fail with their requestId: no snapshot yet, a run not kept, no model', async () => {
    const h = harness();
    h.send({ type: 'init', backend: 'wasm' });
    const noModel = await h.ask({ type: 'export', requestId: 7, from: 'model', meta: {} }, 'error');
    expect(noModel).toMatchObject({ requestId: 7, error: { code: 'noModel' } });
    await h.ready();
    expect(await h.ask({ type: 'export', requestId: 8, from: 'snapshot', meta: {} }, 'error')).toMatchObject({ requestId: 8, error: { code: 'noSnapshot' } });
    const notKept = await h.ask({ type: 'export', requestId: 9, from: 'run', runId: 'nope', meta: {} }, 'error');
    expect(notKept.requestId).toBe(9);
    expect(notKept.error.message).toMatch(/no longer kept/);
  });
});

/** The page's part of an autosave, as the persist test writes it. */
function pageState(step: number): SavedUi {
  const s = initialState('en');
  return {
    runs: [],
    run: { ...s.run, step },
    request: null,
    settings: { model: s.model.arch, preset: s.model.preset, seed: 1, pretrain: s.pretrain, finetune: s.finetune, data: 'verse', pairs: null },
  };
}

describe('the autosave', () => {
  it('kept in IndexedDB and loaded into a new session, training goes on exactly as if it had never stopped', async () => {
    const run = pretrainRun('r', { steps: 30, autosaveEvery: 10 });
    const original = harness();
    await original.ready();
    await original.train(run);
    const saves = original.all('autosave');
    expect(saves.map((s) => [s.runId, s.step])).toEqual([
      ['r', 10],
      ['r', 20],
    ]);

    // The page stores the worker's file with its own state, in one transaction; after a reload it reads it back.
    await autosave(new Uint8Array(saves[1].bytes), pageState(20));
    const saved = await loadAutosave();
    expect(saved!.ui.run.step).toBe(20);

    const restored = harness();
    restored.send({ type: 'init', backend: 'wasm' });
    restored.send({ type: 'setCorpus', name: 'verse', text: TEXT });
    const done = await restored.ask({ type: 'loadSession', requestId: 1, bytes: saved!.bytes.slice().buffer }, 'done');
    expect(done.requestId).toBe(1);
    expect(restored.all('modelInfo').at(-1)!.info).toMatchObject({ step: 20, phase: 'pretrain', hasSnapshot: false });

    const end = await restored.train(run, 20);
    expect(end).toMatchObject({ status: 'done', stepsDone: 30 });
    const tail = (h: Harness) =>
      h
        .points('r')
        .filter((p) => p.step >= 20)
        .map((p) => [p.step, p.globalStep, p.loss]);
    expect(tail(restored)).toHaveLength(10);
    expect(tail(restored)).toEqual(tail(original));
    expect(weights(await exportFrom(restored, 'model'))).toEqual(weights(await exportFrom(original, 'model')));
  });

  it('falls due every period, except within half a period of the run’s end (which saves anyway)', async () => {
    const due = (steps: number, every: number) => Array.from({ length: steps + 1 }, (_, n) => n).filter((n) => autosaveDue(n, every, steps));
    expect(due(60, 50)).toEqual([]); // the lesson's fine-tune: its end saves, ten steps after step 50
    expect(due(100, 50)).toEqual([50]);
    expect(due(30, 10)).toEqual([10, 20]);
    expect(due(24, 10)).toEqual([10]); // 20 is four steps from the end
    expect(due(25, 10)).toEqual([10, 20]);
    expect(due(30, 0)).toEqual([]); // off
    // In a run: the worker posts only the saves due.
    const h = harness();
    await h.ready();
    await h.train(pretrainRun('short', { steps: 24, autosaveEvery: 10 }));
    expect(h.all('autosave').map((s) => s.step)).toEqual([10]);
  });

  it('a session file that is not one is refused with its requestId, and the model stays', async () => {
    const h = harness();
    await h.ready();
    const before = await exportFrom(h, 'model');
    const refused = await h.ask({ type: 'loadSession', requestId: 3, bytes: before.slice(0) }, 'error');
    expect(refused.requestId).toBe(3);
    expect(refused.error.message).toMatch(/not a saved session/);
    expect(weights(await exportFrom(h, 'model'))).toEqual(weights(before));
  });
});

/** Question-and-answer pairs in the test corpus's own characters. */
const PAIRS: Pair[] = Array.from({ length: 16 }, (_, i) => ({ prompt: `Call me ${i % 7}`, response: `I went to sea ${i % 7} times.` }));

/** A session with a model pretrained 10 steps and the test pairs set (4 held-out prompts, no quiz). */
async function pretrainedWithPairs(): Promise<Harness> {
  const h = harness();
  await h.ready();
  await h.train(pretrainRun('pre', { steps: 10 }));
  h.send({ type: 'setPairs', name: 'verse-qa', pairs: PAIRS, valFraction: 0.25, responseOnly: true, heldout: [], quiz: null });
  await h.next('pairsInfo');
  return h;
}

function finetuneRun(runId: string, over: Partial<RunRequest> = {}): RunRequest {
  return pretrainRun(runId, {
    phase: 'finetune',
    steps: 8,
    lr: 2e-3,
    evalEvery: 4,
    sampleEvery: 4,
    fromSnapshot: true,
    dialogueEval: { ...GREEDY, maxNewTokens: 8 },
    ...over,
  });
}

describe('fine-tuning', () => {
  it('keeps the pretrained snapshot, scores both against held-out prompts, and keeps each run’s weights until forgotten', async () => {
    const h = harness();
    await h.ready();
    await h.train(pretrainRun('pre', { steps: 10 }));
    const pretrained = await exportFrom(h, 'model');
    h.send({ type: 'setPairs', name: 'verse-qa', pairs: PAIRS, valFraction: 0.25, responseOnly: true, heldout: [], quiz: null });
    await h.next('pairsInfo');

    const from = h.events.length;
    const ft = await h.train(finetuneRun('ft1'));
    expect(h.errors()).toEqual([]);
    expect(ft).toMatchObject({ status: 'done', stepsDone: 8 });
    const types = h.events.slice(from).map((e) => e.type);
    expect(types.indexOf('scoring')).toBeGreaterThan(types.lastIndexOf('metrics'));
    expect(types.indexOf('dialogueScore')).toBeGreaterThan(types.indexOf('scoring'));
    expect(types.indexOf('runEnded')).toBeGreaterThan(types.indexOf('dialogueScore'));
    const score = h.all('dialogueScore', from)[0];
    expect(score.model.prompts).toBe(4);
    expect(score.snapshot!.prompts).toBe(4);
    expect(h.all('modelInfo').at(-1)!.info).toMatchObject({ phase: 'finetune', hasSnapshot: true });

    expect(weights(await exportFrom(h, 'snapshot'))).toEqual(weights(pretrained));
    const ft1 = await exportFrom(h, 'model');
    expect(weights(ft1)).not.toEqual(weights(pretrained));
    expect(readCheckpoint(new Uint8Array(ft1)).training).toMatchObject({ phase: 'finetune', freezePlan: { kind: 'none' } });

    // A second strategy from the same snapshot: the first run's weights stay exportable until forgotten.
    const second = await h.train(finetuneRun('ft2', { lr: 5e-3 }));
    expect(second.status).toBe('done');
    expect(h.all('dialogueScore').at(-1)!.snapshot).toEqual(score.snapshot);
    expect(weights(await exportFrom(h, 'run', 'ft1'))).toEqual(weights(ft1));
    expect(weights(await exportFrom(h, 'run', 'ft2'))).not.toEqual(weights(ft1));
    h.send({ type: 'forgetRun', runId: 'ft1' });
    const gone = await h.ask({ type: 'export', requestId: 40, from: 'run', runId: 'ft1', meta: {} }, 'error');
    expect(gone.error.message).toMatch(/no longer kept/);
  });

  it('a prescore scores the model a fine-tune starts from while the worker is idle: the run then scores only its own model', async () => {
    const settings = { ...GREEDY, maxNewTokens: 8 };
    // The reference: no prescore, both models scored after the steps.
    const plain = await pretrainedWithPairs();
    let from = plain.events.length;
    await plain.train(finetuneRun('ft'));
    expect((await plain.next('scoring', () => true, from)).answers).toBe(8);
    const reference = plain.all('dialogueScore', from)[0];

    const h = await pretrainedWithPairs();
    h.send({ type: 'prescore', settings });
    expect((await h.next('prescored')).answers).toBe(4);
    from = h.events.length;
    await h.train(finetuneRun('ft'));
    expect(h.errors()).toEqual([]);
    // Only the fine-tuned model's 4 replies are left, and the snapshot's score is the one scored after the run above.
    expect((await h.next('scoring', () => true, from)).answers).toBe(4);
    const score = h.all('dialogueScore', from)[0];
    expect(score.snapshot).toEqual(reference.snapshot);
    expect(score.model).toEqual(reference.model);

    // A prescore of weights that then change (two more pretraining steps) is not the snapshot's: scored again.
    const changed = await pretrainedWithPairs();
    changed.send({ type: 'prescore', settings });
    await changed.next('prescored');
    await changed.train(pretrainRun('more', { steps: 2 }));
    from = changed.events.length;
    await changed.train(finetuneRun('ft'));
    expect((await changed.next('scoring', () => true, from)).answers).toBe(8);
    expect(changed.all('dialogueScore', from)[0].snapshot).not.toEqual(reference.snapshot);
  });

  it('a prescore gives way to every request and resumes once the worker is idle; a run drops it', async () => {
    const h = await pretrainedWithPairs();
    await h.pump.idle(); // nothing queued: the prescore starts at once
    // Long replies: the prescore takes many passes. A sample sent while it samples is answered first, then the
    // prescore starts again and ends.
    let begun!: () => void;
    const started = new Promise<void>((resolve) => (begun = resolve));
    const prescore = h.session.prescore.bind(h.session);
    h.session.prescore = (msg, signal) => (begun(), prescore(msg, signal));
    let from = h.events.length;
    h.send({ type: 'prescore', settings: { ...GREEDY, maxNewTokens: 200 } });
    await started;
    await new Promise((resolve) => setImmediate(resolve)); // a macrotask: it is into its passes (they yield between)
    await reply(h, 'Call');
    await h.next('prescored', () => true, from);
    const order = h.events.slice(from).map((e) => e.type);
    expect(order.indexOf('sampleDone')).toBeLessThan(order.indexOf('prescored'));
    expect(h.errors()).toEqual([]);

    // Other settings, then a run at once: the run scores both models itself, and the prescore does not come back.
    from = h.events.length;
    h.send({ type: 'prescore', settings: { ...GREEDY, maxNewTokens: 150 } });
    await h.train(finetuneRun('ft', { dialogueEval: { ...GREEDY, maxNewTokens: 150 } }));
    expect((await h.next('scoring', () => true, from)).answers).toBe(8);
    await h.pump.idle();
    await reply(h, 'Call'); // one more request through the queue: nothing resumes after it
    expect(h.all('prescored', from)).toEqual([]);
  });

  it('a prescore cut short keeps its replies: the next attempt, or the run that drops it, samples only the rest, with the same score', async () => {
    const settings = { ...GREEDY, maxNewTokens: 20 };
    // Held-out prompts of different lengths (replies that end at different passes) and a quiz of three questions.
    const heldout = ['Call', 'Call me 3', 'Call me Ishmael, then', 'Me'];
    const quiz = {
      chance: 0.5,
      values: { times: ['3', '5'] },
      names: ['Ishmael'],
      items: ['How often, Ishmael?', 'Ishmael, how often?', 'Often?'].map((prompt) => ({
        prompt,
        name: 'Ishmael',
        attribute: 'times',
        value: '3',
        expected: 'I went to sea 3 times.',
        unseenWording: false,
      })),
    };
    const withQuiz = async () => {
      const h = await pretrainedWithPairs();
      h.send({ type: 'setPairs', name: 'verse-qa', pairs: PAIRS, valFraction: 0.25, responseOnly: true, heldout, quiz });
      await h.next('pairsInfo', () => true, h.events.length);
      await h.pump.idle();
      return h;
    };
    /**
     * The session's owner, its unfinished score's replies counted as they are kept, and cut after the first (by
     * `signal`, or by what `cut` does).
     */
    const cutAfterFirstReply = (h: Harness, cut?: () => void) => {
      const owner = (h.session as unknown as { owner: ModelOwner }).owner;
      const ctl = cut ? { abort: cut, signal: new AbortController().signal } : new AbortController();
      const kept: number[] = [];
      let part: ModelOwner['partialScore'] = null;
      Object.defineProperty(owner, 'partialScore', {
        configurable: true,
        get: () => part,
        set: (v: ModelOwner['partialScore']) => {
          part = v;
          for (const m of v ? [v.progress.replies, v.progress.answers] : []) cutAfterFirstSet(m, kept, ctl);
        },
      });
      return { owner, signal: ctl.signal, kept };
    };
    const answers = heldout.length + quiz.items.length;

    // The reference: a fine-tune without a prescore scores both models after its steps.
    const plain = await withQuiz();
    let from = plain.events.length;
    await plain.train(finetuneRun('ft', { dialogueEval: settings }));
    expect((await plain.next('scoring', () => true, from)).answers).toBe(2 * answers);
    const reference = plain.all('dialogueScore', from)[0];
    expect(reference.snapshot?.knowledge?.answers).toHaveLength(3);
    // Each answer says whether the token limit cut it (the page marks it with an ellipsis): a cut one is that long.
    for (const a of [...reference.snapshot!.knowledge!.answers, ...reference.model.knowledge!.answers]) {
      expect(typeof a.cut).toBe('boolean');
      if (a.cut) expect(a.reply.length).toBe(QUIZ_MAX_TOKENS);
    }
    console.info(
      `quiz answers cut by the token limit: ${reference.snapshot!.knowledge!.answers.filter((a) => a.cut).length} of 3 before, ${reference.model.knowledge!.answers.filter((a) => a.cut).length} of 3 after`,
    );

    // Cut short, then tried again: the second attempt samples only what the first did not, and the score is the one
    // the run computes for the same weights.
    const h = await withQuiz();
    const cut = cutAfterFirstReply(h);
    const msg = { type: 'prescore' as const, settings };
    expect(await h.session.prescore(msg, cut.signal)).toBe(false);
    const first = [...cut.kept];
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(heldout.length); // cut inside the held-out replies: the quiz is still to come
    cut.kept.length = 0;
    expect(await h.session.prescore(msg, new AbortController().signal)).toBe(true);
    expect(cut.kept.length).toBe(answers - first.length);
    expect(cut.owner.prescore?.score).toEqual(reference.snapshot);
    // A second prescore, other settings, cut short beside that finished one: the run with those settings goes on
    // from its replies (the snapshot takes the finished score and the unfinished replies, each for its settings).
    const other = { ...settings, maxNewTokens: 21 };
    const cutB = cutAfterFirstReply(h);
    expect(await h.session.prescore({ type: 'prescore', settings: other }, cutB.signal)).toBe(false);
    const keptB = cutB.kept.length; // (the run's scoring adds to the same replies)
    from = h.events.length;
    await h.train(finetuneRun('ft', { dialogueEval: other }));
    expect((await h.next('scoring', () => true, from)).answers).toBe(2 * answers - keptB);

    // Cut short, then a run (which drops the prescore): its scoring goes on from the replies sampled, and says so.
    const r = await withQuiz();
    const cutR = cutAfterFirstReply(r);
    expect(await r.session.prescore(msg, cutR.signal)).toBe(false);
    const sampled = cutR.kept.length;
    from = r.events.length;
    await r.train(finetuneRun('ft', { dialogueEval: settings }));
    expect((await r.next('scoring', () => true, from)).answers).toBe(2 * answers - sampled);
    const score = r.all('dialogueScore', from)[0];
    expect(r.errors()).toEqual([]);
    expect(score.snapshot).toEqual(reference.snapshot);
    expect(score.model).toEqual(reference.model);
    expect(cutR.owner.partialScore).toBeNull(); // the snapshot's score is kept whole now

    // Stop while a run scores the snapshot (after the fine-tuned model): no score, but the snapshot's replies so far
    // are kept, and the next run goes on from them.
    const s = await withQuiz();
    const cutS = cutAfterFirstReply(s, () => s.send({ type: 'stop' }));
    from = s.events.length;
    expect(await s.train(finetuneRun('stopped', { dialogueEval: settings }))).toMatchObject({ status: 'done' });
    expect(s.all('dialogueScore', from)).toEqual([]);
    const kept = cutS.kept.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(answers);
    from = s.events.length;
    await s.train(finetuneRun('after', { dialogueEval: settings }));
    expect((await s.next('scoring', () => true, from)).answers).toBe(2 * answers - kept);
    expect(s.all('dialogueScore', from)[0].snapshot).toEqual(reference.snapshot);
    expect(s.errors()).toEqual([]);
  });

  it('a prescore with the next fine-tune’s settings measures its first evaluation ahead: the run reports the same numbers without computing them', async () => {
    const settings = { ...GREEDY, maxNewTokens: 8 };
    const evaluation = { batchSize: 8, evalIters: 2, forgetting: false }; // finetuneRun's
    const ownerOf = (h: Harness) => (h.session as unknown as { owner: ModelOwner }).owner;
    /** Counts the batches the session's model evaluates from now on. */
    const counting = (h: Harness) => {
      const model = ownerOf(h).model!;
      const lossAndAccuracy = model.lossAndAccuracy.bind(model);
      const count = { batches: 0 };
      model.lossAndAccuracy = (...a: Parameters<typeof lossAndAccuracy>) => (count.batches++, lossAndAccuracy(...a));
      return count;
    };
    const evals = (h: Harness, from: number) => h.all('eval', from).map(({ step, losses, accuracy }) => ({ step, losses, accuracy }));

    // The reference: no prescore; three evaluations (steps 0, 4 and 8), all computed.
    const plain = await pretrainedWithPairs();
    let from = plain.events.length;
    const plainCount = counting(plain);
    await plain.train(finetuneRun('ft'));
    const reference = evals(plain, from);
    expect(reference.map((e) => e.step)).toEqual([0, 4, 8]);
    const perEvaluation = plainCount.batches / 3;
    expect(perEvaluation).toBeGreaterThan(0);
    // The next run from the snapshot (Compare's next strategy) reports the snapshot's evaluation that run computed.
    from = plain.events.length;
    plainCount.batches = 0;
    await plain.train(finetuneRun('ft2'));
    expect(evals(plain, from)[0]).toEqual(reference[0]);
    expect(plainCount.batches).toBe(2 * perEvaluation);
    // Not a LoRA run (its model has adapters): it evaluates for itself.
    plainCount.batches = 0;
    await plain.train(finetuneRun('lora', { lora: { rank: 2, alpha: 4, targets: 'attn' }, dialogueEval: undefined }));
    expect(plainCount.batches).toBe(3 * perEvaluation);

    const h = await pretrainedWithPairs();
    await h.pump.idle();
    // Interrupted (any request does it): nothing kept; the next attempt measures it.
    const cut = new AbortController();
    cut.abort();
    expect(await h.session.prescore({ type: 'prescore', settings, evaluation }, cut.signal)).toBe(false);
    expect(ownerOf(h).preEval).toBeNull();
    h.send({ type: 'prescore', settings, evaluation });
    await h.next('prescored');
    expect(ownerOf(h).preEval?.result.losses).toEqual(reference[0].losses);
    from = h.events.length;
    const count = counting(h);
    await h.train(finetuneRun('ft'));
    expect(h.errors()).toEqual([]);
    expect(evals(h, from)).toEqual(reference);
    expect(count.batches).toBe(2 * perEvaluation);

    // The snapshot now exists and the model is fine-tuned: a prescore evaluates the snapshot (on a model of its own,
    // released after), and a compared run from it reports that.
    ownerOf(h).preEval = null;
    const tensors = liveTensors();
    h.send({ type: 'prescore', settings, evaluation });
    await h.next('prescored', () => true, h.events.length);
    expect(ownerOf(h).preEval?.weights).toBe(ownerOf(h).snapshot);
    expect(ownerOf(h).preEval?.result.losses).toEqual(reference[0].losses);
    expect(liveTensors()).toBe(tensors);
    from = h.events.length;
    const again = counting(h);
    await h.train(finetuneRun('ft2'));
    expect(evals(h, from)[0]).toEqual(reference[0]);
    expect(again.batches).toBe(2 * perEvaluation);
    // A run that goes on from the fine-tuned model (not from the snapshot) evaluates it itself.
    from = h.events.length;
    const onwards = counting(h);
    await h.train(finetuneRun('ft3', { fromSnapshot: false }));
    expect(evals(h, from)[0]).not.toEqual(reference[0]);
    expect(onwards.batches).toBe(3 * perEvaluation);

    // Other settings at the run (its batches differ), or weights that changed after the prescore (two more
    // pretraining steps): the run evaluates for itself.
    for (const [change, run] of [
      [async () => {}, finetuneRun('ft', { batchSize: 4 })],
      [async () => {}, finetuneRun('ft', { forgetting: true })],
      [(x: Harness) => x.train(pretrainRun('more', { steps: 2 })), finetuneRun('ft')],
    ] as const) {
      const [alone, ahead] = [await pretrainedWithPairs(), await pretrainedWithPairs()];
      ahead.send({ type: 'prescore', settings, evaluation });
      await ahead.next('prescored');
      const counts = [];
      const fromAt = [alone.events.length, ahead.events.length];
      for (const x of [alone, ahead]) {
        await change(x);
        const c = counting(x);
        await x.train(run);
        counts.push(c.batches);
      }
      expect(ahead.errors()).toEqual([]);
      expect(counts[1]).toBe(counts[0]);
      expect(evals(ahead, fromAt[1])).toEqual(evals(alone, fromAt[0]));
    }
  });

  it('what a GPU skipped is not kept: a prescore whose check fails keeps no evaluation and no score, a run that fails keeps no evaluation', async () => {
    const settings = { ...GREEDY, maxNewTokens: 8 };
    const evaluation = { batchSize: 8, evalIters: 2, forgetting: false };
    // A WebGPU device as gpuGuard.ts sees it: its error scopes report a rejected program once asked to.
    const gpu = { reject: false, pops: 0, rejectAt: -1 };
    const device: GpuDeviceLike = {
      pushErrorScope: () => undefined,
      popErrorScope: async () => {
        const reject = gpu.reject || ++gpu.pops === gpu.rejectAt;
        gpu.reject = false;
        return reject ? { message: 'Invalid ComputePipeline "matMulPacked"' } : null;
      },
    };
    const h = harness({ gpuDevice: () => device });
    await h.ready();
    await h.train(pretrainRun('pre', { steps: 10 }));
    h.send({ type: 'setPairs', name: 'verse-qa', pairs: PAIRS, valFraction: 0.25, responseOnly: true, heldout: [], quiz: null });
    await h.next('pairsInfo');
    await h.pump.idle();
    const owner = (h.session as unknown as { owner: ModelOwner }).owner;
    gpu.reject = true;
    await expect(h.session.prescore({ type: 'prescore', settings, evaluation }, new AbortController().signal)).rejects.toMatchObject({
      code: 'prescoreFailed',
    });
    expect(owner.preEval).toBeNull();
    expect(owner.prescore).toBeNull();
    // Without the evaluation the check after the replies fails: none of the replies is kept to go on from.
    gpu.reject = true;
    await expect(h.session.prescore({ type: 'prescore', settings }, new AbortController().signal)).rejects.toMatchObject({ code: 'prescoreFailed' });
    expect(owner.partialScore).toBeNull();
    expect(owner.prescore).toBeNull();
    // So the run evaluates at step 0 and scores both models itself.
    let from = h.events.length;
    await h.train(finetuneRun('ft'));
    expect(h.all('eval', from).map((e) => e.step)).toEqual([0, 4, 8]);
    expect((await h.next('scoring', () => true, from)).answers).toBe(8);
    expect(owner.preEval).not.toBeNull(); // its evaluation of the snapshot, kept once the run ended well

    // A run from the snapshot that the GPU fails (at its first read-back) keeps nothing of what it measured.
    owner.preEval = null;
    gpu.reject = true;
    from = h.events.length;
    const failed = await h.train(finetuneRun('bad'));
    expect(failed.status).toBe('error');
    expect(h.all('eval', from).map((e) => e.step)).toEqual([0]);
    expect(owner.preEval).toBeNull();

    // A run whose scoring of the snapshot the GPU fails (the check after its replies: the second after "scoring"
    // begins, the first being the fine-tuned model's; each check pops two error scopes): none of the snapshot's
    // replies is kept to go on from.
    owner.snapshotScore = null;
    void h.next('scoring', () => true, h.events.length).then(() => (gpu.rejectAt = gpu.pops + 3));
    const scoring = await h.train(finetuneRun('scored'));
    expect(scoring.status).toBe('error');
    expect(scoring.error?.name).toBe('GpuProgramError');
    expect(owner.partialScore).toBeNull();
  });

  it('a prescore that fails says so once, as background work with its cause; the model still samples and fine-tunes', async () => {
    const h = await pretrainedWithPairs();
    await h.pump.idle();
    const owner = (h.session as unknown as { owner: ModelOwner }).owner;
    const model = owner.model!;
    const decode = model.decode.bind(model);
    model.decode = () => {
      throw new Error('the GPU ran out of memory');
    };
    const from = h.events.length;
    h.send({ type: 'prescore', settings: GREEDY });
    const e = await h.next('error', () => true, from);
    expect(e.requestId).toBeUndefined();
    expect(e.error.code).toBe('prescoreFailed');
    expect(e.error.message).toMatch(/ahead of the fine-tune failed \(the GPU ran out of memory\)/);
    expect(e.error.cause?.message).toBe('the GPU ran out of memory');
    await h.pump.idle();
    model.decode = decode;
    expect(await reply(h, 'Call')).toEqual(expect.any(String)); // not retried in between: one error, and the queue moves
    expect(h.all('error', from)).toHaveLength(1);
    const ft = h.events.length;
    await h.train(finetuneRun('ft'));
    expect((await h.next('scoring', () => true, ft)).answers).toBe(8); // both models, scored by the run
    expect(h.all('dialogueScore', ft)).toHaveLength(1);
  });

  it('Stop while the answers are scored ends the run at once, without a score; Pause there changes nothing', async () => {
    const h = await pretrainedWithPairs();

    // Pause after the last step: the scoring goes on and the run ends done, with its score.
    let from = h.events.length;
    let ended = h.train(finetuneRun('paused'));
    // The page is told how many replies are scored: 4 held-out prompts, for the model and (the first time) the snapshot.
    expect((await h.next('scoring', () => true, from)).answers).toBe(8);
    h.send({ type: 'pause' });
    expect(await ended).toMatchObject({ status: 'done', stepsDone: 8 });
    expect(h.all('dialogueScore', from)).toHaveLength(1);

    // Stop: the scoring (long replies: 200 tokens each) ends within a pass; the run ends with its steps, unscored.
    from = h.events.length;
    ended = h.train(finetuneRun('stopped', { dialogueEval: { ...GREEDY, maxNewTokens: 200 } }));
    expect((await h.next('scoring', () => true, from)).answers).toBe(8); // other settings: the snapshot scored again
    h.send({ type: 'stop' });
    expect(await ended).toMatchObject({ status: 'done', stepsDone: 8 });
    expect(h.all('dialogueScore', from)).toEqual([]);
    expect(h.errors()).toEqual([]);

    // No score was kept from the stopped run: the next one scores both models whole (the snapshot on from any
    // replies the stopped one had sampled).
    from = h.events.length;
    await h.train(finetuneRun('after', { dialogueEval: { ...GREEDY, maxNewTokens: 200 } }));
    const score = h.all('dialogueScore', from)[0];
    expect([score.model.prompts, score.snapshot!.prompts]).toEqual([4, 4]);
  });

  it('a LoRA run’s adapters, exported alone, go back onto the model they were trained from', async () => {
    const h = harness();
    await h.ready();
    await h.train(pretrainRun('pre', { steps: 6 }));
    const base = await exportFrom(h, 'model');
    h.send({ type: 'setPairs', name: 'verse-qa', pairs: PAIRS, valFraction: 0.25, responseOnly: true, heldout: [], quiz: null });
    const end = await h.train(finetuneRun('lora', { lr: 1e-2, lora: { rank: 2, alpha: 4, targets: 'attn' }, dialogueEval: undefined }));
    expect(end.status).toBe('done');
    expect(h.all('modelInfo').at(-1)!.info!.lora).toMatchObject({ rank: 2, alpha: 4 });
    const adapters = (await h.ask({ type: 'export', requestId: 50, from: 'model', adapter: true, meta: {} }, 'file')).bytes;
    const merged = await exportFrom(h, 'model');
    expect(weights(merged)).not.toEqual(weights(base));

    const other = harness();
    other.send({ type: 'init', backend: 'wasm' });
    await other.ask({ type: 'import', requestId: 1, bytes: base.slice(0) }, 'done');
    const onto = await other.ask({ type: 'import', requestId: 2, bytes: adapters }, 'done');
    expect(onto).toEqual({ type: 'done', requestId: 2, adapters: true });
    expect(other.all('modelInfo').at(-1)!.info).toMatchObject({ phase: 'finetune', lora: { rank: 2 } });
    const mergedThere = weights(await exportFrom(other, 'model'));
    for (const [name, w] of weights(merged)) {
      const there = mergedThere.get(name)!;
      expect(Math.max(...w.map((x, i) => Math.abs(x - there[i]))), name).toBeLessThan(1e-5);
    }
  });
});

describe('a run that fails mid-way', () => {
  it('a non-finite loss ends the run with an error event; the weights are those from before the bad step', async () => {
    const h = harness();
    await h.ready();
    // A learning rate this absurd sends the weights past float range within a step or two.
    const end = await h.train(pretrainRun('nan', { lr: 1e30, evalEvery: 0, sampleEvery: 0 }));
    expect(end.status).toBe('error');
    expect(end.error).toMatchObject({ name: 'NonFiniteError', code: expect.stringMatching(/^nonFinite(Loss|Grad)$/) });
    const badStep = Number(end.error!.params!.step);
    expect(h.points('nan').map((p) => p.step)).toEqual(Array.from({ length: badStep }, (_, i) => i));

    // The same run stopped just before that step has exactly these weights: the bad step changed nothing.
    // (Read raw: at ~1e30 they are finite but far beyond what readCheckpoint accepts as a sane model.)
    const twin = harness();
    await twin.ready();
    await twin.train(pretrainRun('nan', { lr: 1e30, evalEvery: 0, sampleEvery: 0, pauseAt: badStep }));
    const raw = async (x: Harness) => [...readSafetensors(new Uint8Array(await exportFrom(x, 'model'))).tensors].map(([n, t]) => [n, Array.from(t.data)]);
    const kept = await raw(h);
    expect(kept.flatMap(([, d]) => d as number[]).every(Number.isFinite)).toBe(true);
    expect(kept).toEqual(await raw(twin));
    // And the session takes the next run (no run is left claimed), which from these weights meets the same wall.
    const again = await h.train(pretrainRun('again', { steps: 2, lr: 1e-3, evalEvery: 0, sampleEvery: 0 }));
    expect(again.error).toMatchObject({ code: expect.stringMatching(/^nonFinite(Loss|Grad)$/) });
  });

  it('a program the GPU rejects stops the run with the GPU’s message; the model still samples, exports and trains', async () => {
    // A WebGPU device as gpuGuard.ts sees it: its error scopes report a rejected program once asked to.
    const gpu = { reject: false, pops: 0 };
    const device: GpuDeviceLike = {
      pushErrorScope: () => undefined,
      popErrorScope: async () => {
        gpu.pops++;
        if (!gpu.reject) return null;
        gpu.reject = false;
        return { message: 'Invalid ComputePipeline "matMulPacked"' };
      },
    };
    const h = harness({ gpuDevice: () => device });
    await h.ready();
    const ended = h.next('runEnded', (e) => e.runId === 'gpu');
    h.send({ type: 'train', run: pretrainRun('gpu', { steps: 100_000, evalEvery: 0, sampleEvery: 0 }) });
    await h.next('metrics', (m) => m.points.some((p) => p.step >= 3));
    gpu.reject = true;
    const end = await ended;
    expect(gpu.pops).toBeGreaterThan(2); // the guard was consulted at read-backs
    expect(end.status).toBe('error');
    expect(end.error).toMatchObject({ name: 'GpuProgramError' });
    expect(end.error!.message).toMatch(/the GPU rejected part of the work \(Invalid ComputePipeline "matMulPacked"\)/);

    const file = await exportFrom(h, 'model');
    expect([...weights(file).values()].flat().every(Number.isFinite)).toBe(true);
    expect((await reply(h, 'Call')).length).toBeGreaterThan(0);
    expect(await h.train(pretrainRun('after', { steps: 5, evalEvery: 0, sampleEvery: 0 }))).toMatchObject({ status: 'done', stepsDone: 5 });
  });
});
