/**
 * The tokenizer a new model gets: characters of the corpus, or BPE trained here with its progress posted, on
 * the text's first 90 % as the CLI does (the validation tenth stays unseen by the tokenizer too).
 */
import { CharTokenizer } from '../../engine/tokenizer/char';
import { trainBpe } from '../../engine/tokenizer/bpeTrain';
import { trainingText } from '../../engine/data/corpus';
import type { Tokenizer } from '../../engine/tokenizer/types';
import type { PostEvent, TokenizerChoice } from '../protocol';

/** Progress messages at most this often: a 1,000-merge training reports a few dozen times, not a thousand. */
const PROGRESS_EVERY_MS = 100;

/** The tokenizer for `choice` (characters when absent); null when `signal` cancels a BPE training. */
export async function newTokenizer(text: string, choice: TokenizerChoice | undefined, signal: AbortSignal, post: PostEvent): Promise<Tokenizer | null> {
  if (!choice || choice.kind === 'char') return CharTokenizer.fromText(text);
  let last = 0;
  try {
    return await trainBpe(trainingText(text), {
      vocabSize: choice.vocabSize ?? undefined,
      signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < PROGRESS_EVERY_MS && p.done < p.total) return;
        last = now;
        post({ type: 'tokenizerProgress', progress: { phase: p.phase, done: p.done, total: p.total } });
      },
    });
  } catch (e) {
    // Cancelled: not an error, the current model simply stays (null).
    if (signal.aborted) return null;
    throw e;
  }
}
