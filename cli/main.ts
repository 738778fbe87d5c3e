/**
 * The Node CLI over the same engine the browser runs: `npm run cli -- <command> [options]`.
 * Bad arguments and bad files give one clear line on stderr and exit code 1 (2 for usage errors).
 * Output files are checked before any work and written atomically (cli/output.ts). Ctrl-C stops training at
 * the end of the step and saves what was trained (exit code 130); a second Ctrl-C quits at once.
 */
import { parseArgs } from 'node:util';
import { MAX_VOCAB, MIN_VOCAB } from '../src/engine/tokenizer/bpeTrain';
import { isNodeBackend, NODE_BACKENDS, useNodeBackend } from './backend';
import { INTERRUPTED, OPTIONS, UsageError, joinNegativeValues } from './args';
import { finetune, pretrain } from './train';
import { convert, evaluate, info, sample } from './inspect';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  pretrain  --text FILE|DATASET --out FILE.safetensors [--preset tiny|baby|small] [--recipe lesson|nanogpt]
            [--steps N] [--batch B]
            [--lr X] [--seed S] [--layers L] [--heads H] [--embd C] [--block T] [--dropout P] [--bias]
            [--warmup N] [--schedule cosine|constant|slanted] [--eval-every N] [--eval-iters N] [--grad-accum N]
            [--tokenizer char|bpe|bpe:N (N tokens, ${MIN_VOCAB}–${MAX_VOCAB}; bpe alone sizes it to the text)]
  finetune  --init FILE --pairs FILE|DATASET --out FILE [--freeze none|embeddings|bottom:K|top:K|progressive:K]
            [--warmup N] [--schedule cosine|constant|slanted]
            [--discriminative F] [--text FILE|DATASET (forgetting curve)] [--steps N] [--batch B] [--lr X] [--seed S]
            [--eval-every N] [--eval-iters N]
            [--lora R (1–64: train rank-R adapters only) [--lora-alpha A (default 2R)] [--lora-targets attn|attn,mlp]
             [--export merged|adapter (merged: a plain model file, default; adapter: only the adapters)]]
  eval      --ckpt FILE --text FILE|DATASET [--split all|train|val] [--batch B] [--adapter FILE]
            lines: bits-per-char <number>, last loss <number> (per token)
  eval      --ckpt FILE --pairs FILE|DATASET [--text CORPUS] [--verbose] [--adapter FILE]
            lines: loss <number> (responses), words <percent>, format <percent> (replies to held-out prompts)
  sample    --ckpt FILE [--prompt TEXT] [--chat] [--tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
  info      --ckpt FILE
  convert   --ckpt FILE --out FILE [--dtype f16|f32]

common:     --backend ${NODE_BACKENDS.join('|')} (default wasm)`;

/**
 * The SIGINT handler of a run that can stop early (training, sampling): the first Ctrl-C asks it to stop at
 * the end of the step (it then saves what was trained); a later one quits at once. Wrappers (npm, a shell,
 * a terminal sending to the process group) can deliver one Ctrl-C twice within milliseconds, or both at
 * once after a long step: a repeat within `sameWithinMs` of the first counts as the same Ctrl-C.
 */
export function interruptHandler(ctl: AbortController, quit: () => void, now: () => number = () => performance.now(), sameWithinMs = 250): () => void {
  let first = 0;
  return () => {
    if (!ctl.signal.aborted) {
      first = now();
      ctl.abort();
    } else if (now() - first >= sameWithinMs) {
      quit();
    }
  };
}

/** Commands whose work stops at a Ctrl-C and ends properly (the others are simply killed by it). */
const INTERRUPTIBLE = new Set(['pretrain', 'finetune', 'sample']);

export async function main(argv: string[]): Promise<number> {
  const ctl = new AbortController();
  const onInt = interruptHandler(ctl, () => process.exit(INTERRUPTED));
  try {
    const { values: v, positionals } = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (v.help || !command) {
      console.log(USAGE);
      return v.help ? 0 : 2;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    if (INTERRUPTIBLE.has(command)) process.on('SIGINT', onInt);
    const backend = v.backend ?? 'wasm';
    if (!isNodeBackend(backend)) throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${backend}"`);
    await useNodeBackend(backend);
    switch (command) {
      case 'pretrain':
        return await pretrain(v, ctl);
      case 'finetune':
        return await finetune(v, ctl);
      case 'eval':
        await evaluate(v);
        return 0;
      case 'sample':
        return await sample(v, ctl);
      case 'info':
        info(v);
        return 0;
      case 'convert':
        convert(v);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (commands: pretrain, finetune, eval, sample, info, convert)`);
    }
  } catch (e) {
    const err = e as Error;
    // parseArgs throws TypeErrors with codes for unknown or malformed options: usage errors too.
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // One line, whatever the message (parseArgs explains some mistakes over several).
    console.error(`error: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
    return usage ? 2 : 1;
  } finally {
    process.off('SIGINT', onInt);
  }
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
