/** A line of text from the model between steps, for the page's strip of how the text improves. */
import { generate } from '../../engine/model/generate';
import { DEFAULT_TEMPLATE, renderPrompt } from '../../engine/data/pairs';
import { LESSON_SAMPLING } from '../../engine/train/lesson';
import type { RunRequest } from '../protocol';
import type { RunContext } from './context';

/** Tokens of each strip sample. */
const STRIP_TOKENS = 60;

/**
 * Sample from the current model (a fine-tune: a reply in the dialogue template) and post it. Pause or Stop
 * (`signal`) cut it short: nothing is posted (a slow device takes seconds for its 60 tokens).
 */
export async function sampleForStrip(ctx: RunContext, r: RunRequest, step: number, signal?: AbortSignal): Promise<void> {
  const { model, tokenizer, trainer } = ctx.owner.require();
  const prompt = r.phase === 'finetune' ? renderPrompt(r.samplePrompt) : r.samplePrompt || '\n';
  const stop = r.phase === 'finetune' ? tokenizer.encode(DEFAULT_TEMPLATE.end).ids : undefined;
  const out = await generate(model, tokenizer.encode(prompt).ids, {
    maxNewTokens: STRIP_TOKENS,
    temperature: LESSON_SAMPLING.temperature,
    seed: r.seed,
    fixedShape: ctx.fixedShape(),
    stop,
    signal,
  });
  if (out.reason === 'aborted') return;
  ctx.post({ type: 'sampleStrip', runId: r.runId, step, globalStep: trainer.globalStep, text: tokenizer.decode(out.ids) });
}
