/**
 * The Node CLI over the same engine the browser runs: `npm run cli -- <command> [options]`.
 * Bad arguments and bad files give one clear line on stderr and exit code 1 (2 for usage errors).
 * Output files are checked before any work and written atomically (cli/output.ts). Ctrl-C, SIGTERM and SIGHUP
 * stop training at the end of the step and save what was trained (exit code 128 + the signal's number: 130,
 * 143, 129); a second signal quits at once.
 */
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { MAX_VOCAB, MIN_VOCAB } from '../src/engine/tokenizer/bpeTrain';
import { defaultCliThreads, isNodeBackend, NODE_BACKENDS, OPTIONAL_NODE_BACKENDS, useNodeBackend } from './backend';
import { INTERRUPTED, OPTIONS, UsageError, joinNegativeValues, num, type Values } from './args';
import { finetune, pretrain } from './train';
import { convert, evaluate, info, sample } from './inspect';
import { exportModel } from './export';
import { processSink, type Sink } from './sink';

/** More threads than this gain nothing at the sizes a lesson trains (and each is a worker with its own stack). */
export const MAX_THREADS = 64;

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
  export    --ckpt FILE --format onnx --out FILE.onnx [--adapter FILE (LoRA: merged in first)]
            --ckpt FILE --format hf --out DIR [--adapter FILE]   (a new or empty folder: config.json, tokenizer.json,
            model.safetensors in GPT-2's layout, onnx/model.onnx, README.md — for transformers and transformers.js)

common:     --backend ${[...NODE_BACKENDS, ...OPTIONAL_NODE_BACKENDS].join('|')} (default wasm; webgpu: this machine's GPU, after
            npm install --no-save webgpu@0.6.2)
            --threads N (wasm: threads to train on, 1–${MAX_THREADS}; default every core, here ${defaultCliThreads()})`;

/**
 * The signals that stop a run as Ctrl-C does: SIGTERM is how `kill`, a service manager, a container runtime
 * or a batch scheduler ends a process, SIGHUP how a closed terminal or dropped SSH session does. Hours of
 * training are saved whichever it is.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The exit code of a run stopped by `sig`: 128 + its number, as a shell reports a process killed by it. */
export function stoppedCode(sig: keyof typeof constants.signals): number {
  return 128 + constants.signals[sig];
}

/**
 * The stop-signal handler of a run that can stop early (training, sampling): the first signal asks it to
 * stop at the end of the step (it then saves what was trained) and is kept as the abort reason, for the exit
 * code; a later one quits at once. Wrappers (npm, a shell, a terminal sending to the process group) can
 * deliver one Ctrl-C twice within milliseconds, or both at once after a long step, and a closing terminal
 * may send SIGHUP then SIGTERM: a repeat within `sameWithinMs` of the first counts as the same request.
 */
export function interruptHandler(
  ctl: AbortController,
  quit: (sig: StopSignal) => void,
  now: () => number = () => performance.now(),
  sameWithinMs = 250,
): (sig?: StopSignal) => void {
  let first = 0;
  return (sig = 'SIGINT') => {
    if (!ctl.signal.aborted) {
      first = now();
      ctl.abort(sig);
    } else if (now() - first >= sameWithinMs) {
      quit(sig);
    }
  };
}

/**
 * Once the terminal is gone (a closed window, a dropped SSH session) writes to it fail with EIO, and to a
 * closed pipe (`| head`) with EPIPE; unhandled, that error would kill the process before it saves. Lost
 * output stops the run as SIGHUP (EIO) or SIGPIPE (EPIPE) would, but it saves first: the progress lines have
 * nowhere to go, the model does. A write failing again is no second signal; any other error is thrown.
 */
function lostOutputHandler(ctl: AbortController): (e: NodeJS.ErrnoException) => void {
  return (e) => {
    if (e.code !== 'EIO' && e.code !== 'EPIPE') throw e;
    if (!ctl.signal.aborted) ctl.abort(e.code === 'EIO' ? 'SIGHUP' : 'SIGPIPE');
  };
}

/** Commands whose work stops at a stop signal and ends properly (the others are simply killed by it). */
const INTERRUPTIBLE = new Set(['pretrain', 'finetune', 'sample']);

/** Runs the CLI on `argv`, writing to `o` (the process's stdout and stderr; a test passes its own): its exit code. */
export async function main(argv: string[], o: Sink = processSink): Promise<number> {
  const ctl = new AbortController();
  const onSignal = interruptHandler(ctl, (sig) => process.exit(stoppedCode(sig)));
  const onLostOutput = lostOutputHandler(ctl);
  try {
    const { values: v, positionals } = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (v.help || !command) {
      o.out(USAGE);
      return v.help ? 0 : 2;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    if (INTERRUPTIBLE.has(command)) for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
    // Every command: a write to a closed pipe (`| head`) must not crash the process.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', onLostOutput);
    const backend = v.backend ?? 'wasm';
    if (!isNodeBackend(backend)) throw new UsageError(`--backend must be one of ${[...NODE_BACKENDS, ...OPTIONAL_NODE_BACKENDS].join(', ')}, got "${backend}"`);
    if (v.threads !== undefined && backend !== 'wasm') throw new UsageError(`--threads applies to the wasm backend, not ${backend}`);
    const threads = num(v, 'threads', defaultCliThreads(), { int: true, min: 1, max: MAX_THREADS });
    await useNodeBackend(backend, { threads });
    const code = await runCommand(command, v, ctl, o);
    // The commands say INTERRUPTED for any stop: the exit code names the signal that stopped them.
    return code === INTERRUPTED && ctl.signal.aborted ? stoppedCode(ctl.signal.reason as keyof typeof constants.signals) : code;
  } catch (e) {
    const err = e as Error;
    // parseArgs throws TypeErrors with codes for unknown or malformed options: usage errors too.
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // One line, whatever the message (parseArgs explains some mistakes over several).
    o.err(`error: ${err.message.replace(/\s*\n\s*/g, ' ')}`);
    return usage ? 2 : 1;
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
    for (const stream of [process.stdout, process.stderr]) stream.off('error', onLostOutput);
  }
}

/** Runs one command: its exit code (INTERRUPTED when a stop signal ended it early). */
async function runCommand(command: string, v: Values, ctl: AbortController, o: Sink): Promise<number> {
  switch (command) {
    case 'pretrain':
      return await pretrain(v, ctl, o);
    case 'finetune':
      return await finetune(v, ctl, o);
    case 'eval':
      await evaluate(v, o);
      return 0;
    case 'sample':
      return await sample(v, ctl, o);
    case 'info':
      info(v, o);
      return 0;
    case 'convert':
      convert(v, o);
      return 0;
    case 'export':
      await exportModel(v, o);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}" (commands: pretrain, finetune, eval, sample, info, convert, export)`);
  }
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
  // Exit once stdout has flushed: a pipe's pending output (past its 64 KiB buffer, e.g. eval --verbose) would
  // otherwise be cut. The callback also runs when the pipe is gone (EPIPE): exit then too.
  main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
}
