/**
 * One training run in the worker: its spec from the request (engine/train/specs.ts), the trainer's run with
 * metrics batched for the page, a sample and an autosave between steps where due, and — after a fine-tune —
 * the replies to the held-out prompts, scored, with the pretrained snapshot's for comparison.
 */
import type { GPT } from '../engine/model/gpt';
import { generate } from '../engine/model/generate';
import { DEFAULT_TEMPLATE, renderPrompt } from '../engine/data/pairs';
import { judgeReply, sampleReplies, scoreReplies } from '../engine/eval/dialogue';
import { scoreQuiz } from '../engine/eval/knowledge';
import { restoreParams, snapshotParams } from '../engine/io/checkpoint';
import { readBackWeights } from '../engine/io/adapter';
import { saveSession } from '../engine/io/session';
import { EngineError } from '../engine/errors';
import type { Tokenizer } from '../engine/tokenizer/types';
import { trainableAt } from '../engine/train/freeze';
import type { TrainSpec } from '../engine/train/trainer';
import { finetuneSpec, pretrainSpec, runSeed } from '../engine/train/specs';
import { EVAL } from '../engine/train/evalNames';
import type { WorkerData } from './data';
import type { ModelOwner } from './owner';
import { toWireError, type DialogueScore, type Event, type RunRequest, type SampleSettings, type StepPoint, type Diagnostics } from './protocol';

/** What a run needs from the worker around it. */
export interface RunContext {
  owner: ModelOwner;
  data: WorkerData;
  post(e: Event, transfer?: Transferable[]): void;
  /** GPU backends compile kernels per shape: sample with one fixed input shape there. */
  fixedShape(): boolean;
}

/** A run in progress: Pause and Stop abort it between steps. */
export interface ActiveRun {
  ctl: AbortController;
  /** Why it was aborted: pause keeps the run resumable. */
  reason: 'pause' | 'stop' | null;
}

export async function runTraining(ctx: RunContext, r: RunRequest, startStep: number, active: ActiveRun): Promise<void> {
  const { owner, data, post } = ctx;
  const { model, tokenizer } = owner.require();
  if (r.phase === 'pretrain' && !data.corpusData) throw new EngineError('choose a corpus to pretrain on first', 'noCorpus');
  if (r.phase === 'finetune') {
    if (!data.pairsData) throw new EngineError('choose dialogue pairs to fine-tune on first', 'noPairs');
    // No snapshot yet (a starter, a loaded model): the model as it is now is the pretrained one.
    if (r.fromSnapshot && !owner.snapshot) owner.snapshot = await snapshotParams(model);
    if (r.fromSnapshot && startStep === 0) restoreParams(model, owner.snapshot!);
    // A fine-tuning run starts with a fresh optimizer (as nanoGPT's init_from='gpt2'): moments from
    // pretraining would carry momentum from the old task, and compared strategies must start equal.
    if (startStep === 0) {
      owner.prepareAdapters(r.lora ?? null, r.fromSnapshot, r.seed);
      owner.freshOptimizer(r.seed);
    }
    // The pretrain → fine-tune boundary: keep the pretrained weights for comparisons and before/after chat.
    if (!owner.snapshot) owner.snapshot = await snapshotParams(model);
  }
  const { trainer } = owner.require();
  if (startStep === 0) trainer.reseed(runSeed(r.seed, r.fromSnapshot, trainer.globalStep));
  const spec: TrainSpec = {
    ...(r.phase === 'pretrain' ? pretrainSpec(r, data.corpusData!) : finetuneSpec(r, data.pairsData!, tokenizer, r.forgetting ? data.corpusData : null)),
    // Read statistics back about four times a second, not every step (a GPU→CPU sync stalls the GPU), and
    // on a GPU never more often than every 10 steps (a slow one then reads back every 10 steps).
    logEvery: 1_000_000,
    readbackMs: 250,
    readbackMinSteps: ctx.fixedShape() ? 10 : 1,
    weightNorms: true, // for the diagnostics charts
  };
  const trainableNow = trainer.trainableParams(trainableAt(spec.freeze ?? r.freeze, startStep, model.config.nLayer, spec.freezeOptions), spec.adaptersOnly);
  post({ type: 'runStarted', runId: r.runId, phase: r.phase, steps: r.steps, startStep, trainableParams: trainableNow });
  owner.training = { ...owner.training, phase: r.phase, ...(r.phase === 'finetune' ? { freezePlan: r.freeze, discriminative: r.discriminative } : {}) };
  post({ type: 'modelInfo', info: owner.info() });

  let buffer: StepPoint[] = [];
  let diagnostics: Diagnostics | undefined;
  let lastPost = 0;
  const flushMetrics = () => {
    if (buffer.length) post({ type: 'metrics', runId: r.runId, points: buffer, diagnostics });
    buffer = [];
    lastPost = performance.now();
  };
  // Early stopping: evaluations since the held-out loss last improved.
  const heldOut = r.phase === 'pretrain' ? EVAL.val : EVAL.pairsVal;
  let best = Infinity;
  let sinceBest = 0;
  let earlyStopped = false;
  const breakAt = r.breakAt !== undefined && r.breakAt > startStep ? r.breakAt : undefined;
  const sampleDue = (n: number) => r.sampleEvery > 0 && (n % r.sampleEvery === 0 || n === r.steps);
  const autosaveDue = (n: number) => r.autosaveEvery > 0 && n % r.autosaveEvery === 0 && n < r.steps;
  const t0 = performance.now();
  let step = startStep;
  try {
    const res = await trainer.run(
      { ...spec, startStep, stopAt: Math.min(r.steps, r.pauseAt ?? r.steps, breakAt ?? r.steps) },
      {
        onStep: (m) => {
          buffer.push({ step: m.step, globalStep: m.globalStep, loss: m.loss, lr: m.lr, gradNorm: m.gradNorm, tokensPerSec: m.tokensPerSec, msPerStep: m.msPerStep, updateNorms: m.updateNorms });
          diagnostics = { globalStep: m.globalStep, weightNorms: m.weightNorms ?? {}, tensors: m.memory.tensors, bytes: m.memory.bytes };
          if (performance.now() - lastPost > 250) flushMetrics();
        },
        onEval: (e) => {
          flushMetrics();
          post({ type: 'eval', runId: r.runId, step: e.step, globalStep: e.globalStep, losses: e.losses, accuracy: e.accuracy });
          const loss = e.losses[heldOut];
          if (!r.earlyStop || loss === undefined || earlyStopped) return;
          if (loss < best) [best, sinceBest] = [loss, 0];
          else if (++sinceBest >= r.earlyStop.patience) {
            // Takes effect at the end of the step under way, like Pause.
            earlyStopped = true;
            active.reason = 'pause';
            active.ctl.abort();
          }
        },
        onFreezeChange: (e) => {
          flushMetrics();
          post({ type: 'freeze', runId: r.runId, step: e.step, globalStep: e.globalStep, trainable: e.trainable, trainableParams: e.trainableParams });
        },
        // Between steps: a sample for the "how the text improves" strip, an autosave.
        between: {
          due: (n) => sampleDue(n) || autosaveDue(n),
          run: async (n) => {
            flushMetrics();
            if (sampleDue(n)) await sampleForStrip(ctx, r, model, tokenizer, n, trainer.globalStep);
            if (autosaveDue(n)) {
              owner.training = { ...owner.training, step: trainer.globalStep };
              const bytes = await saveSession(model, tokenizer, trainer, owner.training, owner.snapshot);
              post({ type: 'autosave', runId: r.runId, step: n, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
            }
          },
        },
      },
      active.ctl.signal,
    );
    step = res.stepsDone;
    flushMetrics();
    owner.training = { ...owner.training, step: trainer.globalStep };
    // Training time only: the scoring below is not part of the run's cost.
    const wallMs = performance.now() - t0;
    const status = step >= r.steps ? 'done' : active.reason === 'pause' || step === r.pauseAt || step === breakAt ? 'paused' : 'stopped';
    if (status === 'paused' && (step === breakAt || earlyStopped)) {
      post({ type: 'breakpoint', runId: r.runId, step, globalStep: trainer.globalStep, reason: earlyStopped ? 'earlyStop' : 'step', evals: sinceBest });
    }
    const prompts = r.phase === 'finetune' && status !== 'paused' && r.dialogueEval ? data.heldoutPrompts() : [];
    if (r.dialogueEval && prompts.length) {
      post({ type: 'scoring', runId: r.runId, prompts: prompts.length });
      const settings = r.dialogueEval;
      const modelScore = await scoreDialogue(ctx, model, tokenizer, prompts, settings);
      const key = JSON.stringify([prompts, settings, data.pairs?.quiz?.items.length ?? 0, data.pairs?.name]);
      const snapshot = owner.snapshot;
      // The snapshot's score: computed once per snapshot and prompt set.
      if (snapshot && (owner.snapshotScore?.snapshot !== snapshot || owner.snapshotScore.key !== key)) {
        const before = owner.snapshotModel();
        try {
          owner.snapshotScore = { snapshot, key, score: await scoreDialogue(ctx, before, tokenizer, prompts, settings) };
        } finally {
          before.dispose();
        }
      }
      post({ type: 'dialogueScore', runId: r.runId, model: modelScore, snapshot: snapshot ? owner.snapshotScore!.score : null });
    }
    if (model.lora) {
      await owner.measureAdapters();
      post({ type: 'modelInfo', info: owner.info() });
    }
    if (r.phase === 'finetune' && status !== 'paused') {
      // A LoRA run keeps its merged weights (what "load" and "export" of the run give) and its adapters.
      // (The adapters' base is the model's own weights: what they were trained on, the snapshot or not.)
      const { merged, adapters } = await readBackWeights(model);
      owner.keepRun(r.runId, merged, adapters, { ...owner.training, freezePlan: r.freeze, discriminative: r.discriminative, stepsInRun: step });
    }
    post({ type: 'runEnded', runId: r.runId, status, stepsDone: step, wallMs, msPerStep: step > startStep ? wallMs / (step - startStep) : 0 });
  } catch (e) {
    flushMetrics();
    owner.training = { ...owner.training, step: trainer.globalStep };
    const wallMs = performance.now() - t0;
    post({ type: 'runEnded', runId: r.runId, status: 'error', stepsDone: step, wallMs, msPerStep: 0, error: toWireError(e) });
  }
}

/** Reply to every held-out prompt and score the replies; with a quiz, answer it and score the knowledge. */
async function scoreDialogue(ctx: RunContext, model: GPT, tokenizer: Tokenizer, prompts: string[], settings: SampleSettings): Promise<DialogueScore> {
  const replies = await sampleReplies(model, tokenizer, prompts, settings);
  const score = scoreReplies(replies, ctx.data.corpusWords());
  const quiz = ctx.data.pairs?.quiz;
  const k = quiz ? await scoreQuiz(model, tokenizer, quiz) : null;
  return {
    format: score.format,
    words: score.words,
    sameLength: score.sameLength,
    prompts: replies.length,
    examples: replies.slice(0, 6).map((x) => ({ prompt: x.prompt, text: x.text, ok: judgeReply(x).ok })),
    knowledge: k && { knowledge: k.knowledge, person: k.person, both: k.both, chance: k.chance, answers: k.answers.map((a) => ({ prompt: a.item.prompt, expected: a.item.expected, unseenWording: a.item.unseenWording, reply: a.reply, fact: a.fact, person: a.person })) },
  };
}

/** A line of text from the model for the page's strip of samples. */
async function sampleForStrip(ctx: RunContext, r: RunRequest, model: GPT, tokenizer: Tokenizer, step: number, globalStep: number): Promise<void> {
  const prompt = r.phase === 'finetune' ? renderPrompt(r.samplePrompt) : r.samplePrompt || '\n';
  const stop = r.phase === 'finetune' ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined;
  const out = await generate(model, tokenizer.encode(prompt).ids, { maxNewTokens: 60, temperature: 0.8, seed: r.seed, fixedShape: ctx.fixedShape(), stop });
  ctx.post({ type: 'sampleStrip', runId: r.runId, step, globalStep, text: tokenizer.decode(out.ids) });
}
