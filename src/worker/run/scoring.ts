/**
 * After a fine-tune: the model's replies to the held-out prompts, scored (the dialogue format, known words,
 * and with the small world's quiz, the facts), next to the pretrained snapshot's. The snapshot's score is
 * computed once per snapshot and prompt set, and kept with the snapshot (compared runs share it).
 */
import type { GPT } from '../../engine/model/gpt';
import { judgeReply, sampleRepliesInto, scoreReplies } from '../../engine/eval/dialogue';
import { scoreQuiz } from '../../engine/eval/knowledge';
import type { Tokenizer } from '../../engine/tokenizer/types';
import type { DialogueScore, EvalSettings, RunRequest, SampleSettings } from '../protocol';
import type { RunContext } from './context';
import { snapshotParams } from '../../engine/io/checkpoint';
import { EngineError } from '../../engine/errors';
import { sameWeights, type ModelOwner, type ScoreProgress } from '../owner';
import { preEvaluate } from './preEval';

/** Replies shown with a score, to say what its numbers mean. */
const EXAMPLES = 6;

/**
 * Score the run's model and the snapshot on the held-out prompts and post both (nothing without prompts or
 * settings). Aborted by `signal` (Stop): nothing is posted or kept, and it returns within a forward pass.
 */
export async function scoreRun(ctx: RunContext, r: RunRequest, signal?: AbortSignal): Promise<void> {
  const { owner, data, post } = ctx;
  const settings = r.dialogueEval;
  const prompts = settings ? data.heldoutPrompts() : [];
  if (!settings || !prompts.length) return;
  const { model, tokenizer } = owner.require();
  const key = scoringKey(ctx, prompts, settings);
  const snapshot = owner.snapshot;
  // What the page says is under way: every reply the scoring samples (the snapshot's once per snapshot, less
  // those an interrupted prescore already sampled).
  const left = snapshot && !snapshotScored(ctx, key) ? answersOf(ctx, prompts) - sampled(progressFor(owner, snapshot, key, false)) : 0;
  post({ type: 'scoring', runId: r.runId, answers: answersOf(ctx, prompts) + left });
  const modelScore = await scoreDialogue(ctx, model, tokenizer, prompts, settings, signal);
  if (!modelScore) return;
  if (snapshot && !(await scoreSnapshot(ctx, tokenizer, prompts, settings, key, signal))) return;
  post({ type: 'dialogueScore', runId: r.runId, model: modelScore, snapshot: snapshot ? owner.snapshotScore!.score : null });
}

/** Whether the snapshot's kept score is for these prompts and settings. */
function snapshotScored(ctx: RunContext, key: string): boolean {
  const { owner } = ctx;
  return owner.snapshotScore?.snapshot === owner.snapshot && owner.snapshotScore.key === key;
}

/** Score the snapshot, unless its kept score is for `key`, and keep the score with it. False when aborted. */
async function scoreSnapshot(
  ctx: RunContext,
  tokenizer: Tokenizer,
  prompts: string[],
  settings: SampleSettings,
  key: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const { owner } = ctx;
  const snapshot = owner.snapshot;
  if (!snapshot || snapshotScored(ctx, key)) return true;
  const progress = progressFor(owner, snapshot, key, true);
  const before = owner.snapshotModel();
  try {
    const score = await scoreDialogue(ctx, before, tokenizer, prompts, settings, signal, progress);
    if (!score) return false;
    owner.snapshotScore = { snapshot, key, score };
    owner.partialScore = null;
    return true;
  } finally {
    before.dispose();
  }
}

/**
 * The replies sampled so far for these weights and key (an unfinished score's), or none; with `start`, a new empty
 * record becomes the owner's unfinished score, so that an interruption keeps what this score samples. The
 * snapshot's weights are compared by identity (they never change), a copy of the model's bit for bit.
 */
function progressFor(owner: ModelOwner, weights: Map<string, Float32Array>, key: string, start: boolean): ScoreProgress {
  const part = owner.partialScore;
  if (part && part.key === key && (part.weights === weights || (weights !== owner.snapshot && sameWeights(part.weights, weights)))) return part.progress;
  const progress: ScoreProgress = { replies: new Map(), answers: new Map() };
  if (start) owner.partialScore = { weights, key, progress };
  return progress;
}

/** Replies a score has already sampled. */
const sampled = (p: ScoreProgress) => p.replies.size + p.answers.size;

/**
 * What a score depends on besides the weights: the prompts, the sampling settings, the pairs and their quiz (its
 * questions are asked by index, its values judge the answers) and the corpus (its words judge the replies).
 */
function scoringKey(ctx: RunContext, prompts: string[], settings: SampleSettings): string {
  return JSON.stringify([prompts, settings, ctx.data.pairs?.quiz ?? null, ctx.data.pairs?.name, ctx.data.corpus?.name]);
}

/** Replies one model's scoring samples: one per held-out prompt and quiz question. */
function answersOf(ctx: RunContext, prompts: string[]): number {
  return prompts.length + (ctx.data.pairs?.quiz?.items.length ?? 0);
}

/**
 * Score, ahead of a fine-tune, the model that its scoring will compare against, while the worker would
 * otherwise wait (the lesson's student reads the starter's answer): the pretrained snapshot, or, before there is
 * one, the model as it is, which becomes the snapshot when fine-tuning starts (owner.takeSnapshot adopts the score
 * if the weights are still these, bit for bit). The run then scores only the fine-tuned model. With `evaluation`,
 * first the fine-tune's first evaluation of that model, measured ahead (run/preEval.ts). Posts `prescored`
 * when there is a score for the settings. Returns false when aborted (the replies sampled so far are kept in
 * owner.partialScore, and the next attempt goes on from them), true otherwise.
 */
export async function prescore(ctx: RunContext, settings: SampleSettings, signal: AbortSignal, evaluation?: EvalSettings): Promise<boolean> {
  const { owner, post } = ctx;
  const prompts = ctx.data.heldoutPrompts();
  const model = owner.model;
  // Nothing to score, or adapters on the model (the snapshot is the model without them: the run scores it).
  // The first evaluation ahead needs the pairs it evaluates on.
  const evaluate = ctx.data.pairsData ? evaluation : undefined;
  if (!model || (!owner.snapshot && model.lora) || (!prompts.length && !evaluate)) return true;
  const { tokenizer } = owner.require();
  const key = scoringKey(ctx, prompts, settings);
  const answers = answersOf(ctx, prompts);
  if (owner.snapshot) {
    if (evaluate && !(await preEvaluate(ctx, evaluate, owner.snapshot, 'snapshot', signal))) return false;
    if (!prompts.length) return true;
    if (!(await scoreSnapshot(ctx, tokenizer, prompts, settings, key, signal))) return false;
  } else {
    const now = await snapshotParams(model);
    const [pre, ev] = [owner.prescore, owner.preEval];
    // The same weights as a finished prescore's or evaluation's (other settings): one copy of them kept, not two.
    const weights = [pre?.weights, ev?.weights].find((w) => w && sameWeights(w, now)) ?? now;
    // The first evaluation, then the score: the shorter first, so that a student quick to press "Fine-tune" still saves it.
    if (evaluate && !(await preEvaluate(ctx, evaluate, weights, model, signal))) return false;
    if (!prompts.length) return true;
    if (!pre || pre.key !== key || pre.weights !== weights) {
      // Given way to a request before: go on from the replies sampled then.
      const score = await scoreDialogue(ctx, model, tokenizer, prompts, settings, signal, progressFor(owner, weights, key, true));
      if (!score) return false;
      owner.prescore = { weights, key, score };
      owner.partialScore = null;
    }
  }
  post({ type: 'prescored', answers });
  return true;
}

/** What a failed prescore says: background work no button asked for, so what failed, and that nothing is lost. */
export function prescoreError(e: unknown): EngineError {
  const reason = e instanceof Error ? e.message : String(e);
  return new EngineError(`scoring the model ahead of the fine-tune failed (${reason}); the fine-tune will score it when it ends`, 'prescoreFailed', {}, e);
}

/**
 * Reply to every held-out prompt and score the replies; with a quiz, answer it and score the knowledge. Null when
 * aborted. `progress`: the replies sampled so far (only the rest are sampled), and where each new one is kept.
 */
async function scoreDialogue(
  ctx: RunContext,
  model: GPT,
  tokenizer: Tokenizer,
  prompts: string[],
  settings: SampleSettings,
  signal?: AbortSignal,
  progress: ScoreProgress = { replies: new Map(), answers: new Map() },
): Promise<DialogueScore | null> {
  const replies = await sampleRepliesInto(model, tokenizer, prompts, { ...settings, signal }, progress.replies);
  if (!replies) return null; // aborted
  const score = scoreReplies(replies, ctx.data.corpusWords(), ctx.data.lineForLine());
  const quiz = ctx.data.pairs?.quiz;
  const k = quiz ? await scoreQuiz(model, tokenizer, quiz, { signal, done: progress.answers }) : null;
  if (signal?.aborted || (quiz && !k)) return null;
  await ctx.owner.checkDevice(); // a GPU that skipped work reads back zeros: not a score to keep or show
  return {
    format: score.format,
    words: score.words,
    sameLength: score.sameLength,
    prompts: replies.length,
    examples: replies.slice(0, EXAMPLES).map((x) => ({ prompt: x.prompt, text: x.text, ok: judgeReply(x).ok })),
    knowledge: k && {
      knowledge: k.knowledge,
      person: k.person,
      both: k.both,
      chance: k.chance,
      answers: k.answers.map((a) => ({
        prompt: a.item.prompt,
        expected: a.item.expected,
        unseenWording: a.item.unseenWording,
        reply: a.reply,
        fact: a.fact,
        person: a.person,
        cut: !a.stopped,
      })),
    },
  };
}
