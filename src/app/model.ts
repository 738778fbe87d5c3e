/** The model: a new one from the chosen architecture, or a starter trained earlier. */
import { get, newRunRecord, set, store } from '../store/store';
import { presetOf, validateConfig } from '../engine/model/config';
import { SCRATCH_RECIPES } from '../engine/train/lesson';
import { STARTERS_DIR } from '../datasets/starters';
import { errorText, msg } from '../i18n/i18n';
import { writeUrl } from '../store/url';
import { applyLessonFinetune, selectCorpus, selectPairs } from './data';
import { notify, notifyKey } from './notify';
import { memoryRefusal, nextVocab } from './memory';
import { importModel } from './session';
import { worker } from './worker';
import { prescoreRequest, startRun } from './runs';

const base = import.meta.env.BASE_URL;

export function createModel(): void {
  const { model, data, tokenizer } = get();
  try {
    validateConfig({ ...model.arch, vocabSize: 2 });
    if (!data.source) return notifyKey('error', 'model.needCorpus');
    if (tokenizer.progress) return; // a tokenizer is being trained for the model already asked for
    const tooLarge = memoryRefusal(get().backend.report ?? undefined, { ...model.arch, vocabSize: nextVocab(get()) }, get().pretrain.batchSize);
    if (tooLarge) return notify('error', tooLarge);
    // A starter's reference curve stays, to compare the student's own pretraining with it.
    set((s) => ({ runs: s.runs.filter((r) => r.reference), run: { ...s.run, runId: null, status: 'idle', error: null, step: 0, steps: 0 } }));
    const choice = tokenizer.kind === 'bpe' ? { kind: 'bpe' as const, vocabSize: tokenizer.vocabSize } : { kind: 'char' as const };
    // Shown at once (the worker's first progress message follows): a second click waits for this model.
    if (choice.kind === 'bpe') set((s) => ({ tokenizer: { ...s.tokenizer, progress: { phase: 'counting', done: 0, total: 1 } } }));
    worker().send({ type: 'createModel', config: model.arch, seed: model.seed, tokenizer: choice });
    writeUrl();
  } catch (e) {
    notify('error', errorText(e));
  }
}

/** Stop training a BPE tokenizer for a new model: the current model stays. */
export function cancelTokenizer(): void {
  worker().send({ type: 'cancelTokenizer' });
}

/**
 * "Here is one I trained earlier": load a starter model with its corpus and its lesson's pairs, and draw
 * its own training curve for comparison. It becomes the pretrained snapshot when fine-tuning starts.
 */
export async function startFromStarter(id: string): Promise<void> {
  const entry = get().starters.find((x) => x.id === id);
  try {
    if (!entry) throw new Error(id);
    if (get().run.status === 'running') return notifyKey('error', 'run.busy');
    const res = await fetch(`${base}${STARTERS_DIR}/${entry.file}`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = await res.arrayBuffer();
    await selectCorpus(entry.corpus);
    if (get().pairs.source !== entry.pairs) await selectPairs(entry.pairs);
    applyLessonFinetune(entry.pairs);
    if (!(await importModel(entry.file, bytes))) return;
    const last = entry.curve[entry.curve.length - 1]?.step ?? 0;
    const reference = newRunRecord({
      runId: `starter-${entry.id}`,
      name: msg('chart.starterCurve'),
      phase: 'pretrain',
      steps: last,
      reference: true,
      status: 'done',
      stepsDone: last,
      points: entry.curve.filter((p) => p.loss !== undefined).map((p) => ({ globalStep: p.step, step: p.step, loss: p.loss!, lr: 0, tokensPerSec: 0 })),
      evals: entry.curve.filter((p) => p.val !== undefined).map((p) => ({ globalStep: p.step, step: p.step, losses: { train: p.train!, val: p.val! } })),
    });
    set({ runs: [reference] });
    notifyKey('info', 'model.starterLoaded');
    prescore();
  } catch (e) {
    notifyKey('error', 'model.starterFailed', { message: errorText(e) });
  }
}

/**
 * Have the worker score, while the student reads, the model the next fine-tune compares against (the starter
 * just loaded, a model just pretrained), and evaluate it as the fine-tune's first evaluation would: after
 * "Fine-tune" only the steps and the fine-tuned model's answers are left.
 * Background work in the worker: any request interrupts it, and a run drops it.
 */
export function prescore(): void {
  // The worker decides whether there is anything to score (a model, held-out prompts): it has both, and in order.
  worker().send(prescoreRequest(get()));
}

/**
 * One click for the whole pipeline in class time: a lesson's corpus pretrained from scratch with its recipe
 * (SCRATCH_RECIPES: the small world in about nine minutes on a laptop CPU), its pairs and fine-tune chosen,
 * and pretraining started as soon as the new model exists.
 */
export async function pretrainFromScratch(corpus: string): Promise<void> {
  const recipe = SCRATCH_RECIPES[corpus];
  if (!recipe) return;
  if (get().run.status === 'running') return notifyKey('error', 'run.busy');
  await selectCorpus(corpus);
  if (get().pairs.source !== recipe.pairs) await selectPairs(recipe.pairs);
  applyLessonFinetune(recipe.pairs);
  set((s) => ({
    model: { ...s.model, arch: recipe.arch, preset: presetOf(recipe.arch) },
    tokenizer: { ...s.tokenizer, kind: 'char' },
    pretrain: { ...s.pretrain, ...recipe.run },
  }));
  // The corpus's counts (the worker's answer) size the vocabulary the memory check uses: wait for them.
  if (!(await until((s) => s.data.info !== null || s.data.error !== null))) return;
  const before = get().model.info;
  createModel();
  if (await until((s) => s.model.info !== null && s.model.info !== before)) startRun('pretrain');
}

/** Resolves true once `ready` holds for the state, false after `ms` without it. */
function until(ready: (s: ReturnType<typeof get>) => boolean, ms = 60_000): Promise<boolean> {
  if (ready(get())) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => (stop(), done(false)), ms);
    const stop = store.subscribe((s) => {
      if (!ready(s)) return;
      clearTimeout(timer);
      stop();
      done(true);
    });
  });
}
