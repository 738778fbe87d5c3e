/**
 * After a fine-tune: the model's replies to the held-out prompts, scored (the dialogue format, known words,
 * and with the small world's quiz, the facts), next to the pretrained snapshot's. The snapshot's score is
 * computed once per snapshot and prompt set, and kept with the snapshot (compared runs share it).
 */
import type { GPT } from '../../engine/model/gpt';
import { judgeReply, sampleReplies, scoreReplies } from '../../engine/eval/dialogue';
import { scoreQuiz } from '../../engine/eval/knowledge';
import type { Tokenizer } from '../../engine/tokenizer/types';
import type { DialogueScore, RunRequest, SampleSettings } from '../protocol';
import type { RunContext } from './context';

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
  const key = JSON.stringify([prompts, settings, data.pairs?.quiz?.items.length ?? 0, data.pairs?.name]);
  const snapshot = owner.snapshot;
  const scoreSnapshot = snapshot !== null && (owner.snapshotScore?.snapshot !== snapshot || owner.snapshotScore.key !== key);
  // What the page says is under way: every reply the scoring samples (the snapshot's once per snapshot).
  const answers = (prompts.length + (data.pairs?.quiz?.items.length ?? 0)) * (scoreSnapshot ? 2 : 1);
  post({ type: 'scoring', runId: r.runId, answers });
  const modelScore = await scoreDialogue(ctx, model, tokenizer, prompts, settings, signal);
  if (!modelScore) return;
  if (scoreSnapshot) {
    const before = owner.snapshotModel();
    try {
      const score = await scoreDialogue(ctx, before, tokenizer, prompts, settings, signal);
      if (!score) return;
      owner.snapshotScore = { snapshot, key, score };
    } finally {
      before.dispose();
    }
  }
  post({ type: 'dialogueScore', runId: r.runId, model: modelScore, snapshot: snapshot ? owner.snapshotScore!.score : null });
}

/** Reply to every held-out prompt and score the replies; with a quiz, answer it and score the knowledge. Null when aborted. */
async function scoreDialogue(
  ctx: RunContext,
  model: GPT,
  tokenizer: Tokenizer,
  prompts: string[],
  settings: SampleSettings,
  signal?: AbortSignal,
): Promise<DialogueScore | null> {
  const replies = await sampleReplies(model, tokenizer, prompts, { ...settings, signal });
  if (signal?.aborted) return null;
  const score = scoreReplies(replies, ctx.data.corpusWords());
  const quiz = ctx.data.pairs?.quiz;
  const k = quiz ? await scoreQuiz(model, tokenizer, quiz, { signal }) : null;
  if (signal?.aborted) return null;
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
      })),
    },
  };
}
