/**
 * Commands that read a model file: `eval` (loss, bits per character, dialogue scores), `sample`, `info`,
 * `convert`.
 */
import { countParams, MAX_VOCAB_SIZE } from '../src/engine/model/config';
import { GPT } from '../src/engine/model/gpt';
import { compilesPerShape, generate } from '../src/engine/model/generate';
import { sequentialWindows, splitIds } from '../src/engine/data/corpus';
import { DEFAULT_TEMPLATE, renderPrompt } from '../src/engine/data/pairs';
import { parsePairsStrict } from '../src/documents/pairsFile';
import { preparePairs } from '../src/engine/data/prepare';
import { checkpointBytes, modelFromCheckpoint, readCheckpoint } from '../src/engine/io/checkpoint';
import { loadAdapter } from '../src/engine/io/adapter';
import { LESSON_SAMPLING } from '../src/engine/train/lesson';
import { evaluateLoss } from '../src/engine/train/evaluate';
import { corpusWords, judgeReply, pairsMatchLength, sampleReplies, scoreReplies } from '../src/engine/eval/dialogue';
import { bitsPerChar, scoredTargets } from '../src/engine/eval/bits';
import { scoreQuiz } from '../src/engine/eval/knowledge';
import { BpeTokenizer, BYTE_TOKENS } from '../src/engine/tokenizer/bpe';
import { readBytes, readInput } from './inputs';
import { writableOutput } from './output';
import { INTERRUPTED, MAX_COUNT, MAX_SEED, MAX_TEMPERATURE, UsageError, type Values, need, num } from './args';
import { write } from './train';
import type { Sink } from './sink';

/** The checkpoint's model, with the adapters of `--adapter FILE` attached (refused unless it is their base). */
async function modelWithAdapter(v: Values, ckpt: ReturnType<typeof readCheckpoint>, o: Sink): Promise<GPT> {
  const model = modelFromCheckpoint(ckpt);
  if (v.adapter === undefined) return model;
  try {
    await loadAdapter(model, readBytes(v.adapter));
    const l = model.lora!.lora;
    o.out(`adapter ${v.adapter}: LoRA rank ${l.rank}, alpha ${l.alpha} on ${l.targets}`);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export async function evaluate(v: Values, o: Sink) {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'eval')));
  if (v.pairs !== undefined) return evaluatePairs(v, ckpt, o);
  const input = readInput(need(v, 'text', 'eval'), 'corpus');
  const split = v.split ?? 'all';
  if (!['all', 'train', 'val'].includes(split)) throw new UsageError(`--split must be all, train or val, got "${split}"`);
  const enc = ckpt.tokenizer.encode(input.text);
  // The same 90/10 split as pretraining: --split val scores only the held-out tenth.
  if (split !== 'all') enc.ids = splitIds(enc.ids)[split as 'train' | 'val'];
  const T = ckpt.config.blockSize;
  if (enc.ids.length < T + 1) throw new UsageError(`${input.name} has ${enc.ids.length} tokens, fewer than one window of ${T + 1}`);
  if (enc.unknownCount) o.out(`note: ${enc.unknownCount} character(s) are outside the checkpoint's vocabulary and count as the unknown token`);
  const model = await modelWithAdapter(v, ckpt, o);
  try {
    const batches = [...sequentialWindows(enc.ids, T, num(v, 'batch', 32, { int: true, min: 1, max: MAX_COUNT }))];
    const windows = batches.reduce((a, b) => a + b.batchSize, 0);
    const loss = await evaluateLoss(model, batches);
    // Bits per character count the characters the scored targets spell, whatever the tokenizer.
    const { tokens, chars } = scoredTargets(ckpt.tokenizer, batches);
    o.out(`windows ${windows} of ${T} tokens (${tokens} targets, ${chars} characters, ${(chars / tokens).toFixed(3)} per token)`);
    o.out(`bits-per-char ${bitsPerChar(loss, tokens, chars).toFixed(6)}`);
    o.out(`loss ${loss.toFixed(6)}`);
  } finally {
    model.dispose();
  }
}

/**
 * Dialogue evaluation: loss on every pair's response, then one sampled reply (the chat's settings) to each
 * held-out prompt: the share of words found in the pretraining corpus, and last the share of replies in
 * the dialogue format.
 */
async function evaluatePairs(v: Values, ckpt: ReturnType<typeof readCheckpoint>, o: Sink) {
  const input = readInput(need(v, 'pairs', 'eval'), 'pairs');
  const pairs = parsePairsStrict(input.text, input.name);
  let prompts = input.entry?.heldout ?? [];
  if (!prompts.length) {
    prompts = pairs.map((p) => p.prompt).slice(0, 40);
    o.out(`note: ${input.name} has no held-out prompts: replying to its first ${prompts.length} prompts (seen in training, if the model was tuned on them)`);
  }
  const data = preparePairs(ckpt.tokenizer, pairs, ckpt.config.blockSize, { valFraction: 0 });
  if (data.truncatedCount) o.out(`warning: ${data.truncatedCount} pair(s) are longer than the context (${ckpt.config.blockSize}) and were truncated`);
  const corpusArg = v.text ?? (typeof ckpt.training.dataset === 'string' ? ckpt.training.dataset : input.entry?.corpus);
  const corpusText = corpusArg ? readInput(corpusArg, 'corpus').text : null;
  const model = await modelWithAdapter(v, ckpt, o);
  try {
    const loss = await evaluateLoss(model, data.train.evalBatches(16, Math.ceil(pairs.length / 16)));
    const replies = await sampleReplies(model, ckpt.tokenizer, prompts, {
      maxNewTokens: num(v, 'tokens', LESSON_SAMPLING.maxNewTokens, { int: true, min: 1, max: MAX_COUNT }),
      temperature: num(v, 'temperature', LESSON_SAMPLING.temperature, { min: 0, max: MAX_TEMPERATURE }),
      topK: num(v, 'top-k', LESSON_SAMPLING.topK, { int: true, min: 0, max: MAX_VOCAB_SIZE }),
      topP: num(v, 'top-p', LESSON_SAMPLING.topP, { min: 0, max: 1 }),
      seed: num(v, 'seed', LESSON_SAMPLING.seed, { int: true, min: 0, max: MAX_SEED }),
    });
    const score = scoreReplies(replies, corpusText ? corpusWords(corpusText) : null, pairsMatchLength(pairs));
    if (v.verbose) for (const r of replies) o.out(`${judgeReply(r).ok ? 'ok ' : 'bad'} ${JSON.stringify(r.prompt)} → ${JSON.stringify(r.text)}`);
    o.out(`pairs ${pairs.length}, held-out prompts ${prompts.length}${corpusArg ? `, words checked against ${corpusArg}` : ''}`);
    o.out(`loss ${loss.toFixed(6)}`);
    o.out(`words ${score.words === null ? 'n/a' : (100 * score.words).toFixed(1)}`);
    const quiz = input.entry?.quiz;
    if (quiz) {
      // The small world's quiz: greedy answers about people no training pair mentions.
      const k = (await scoreQuiz(model, ckpt.tokenizer, quiz))!;
      if (v.verbose)
        for (const a of k.answers)
          o.out(
            `${a.fact ? '✓' : '✗'}${a.person ? ' ' : '?'} ${JSON.stringify(a.item.prompt)} → ${JSON.stringify(a.reply)} (expected ${JSON.stringify(a.item.expected)})`,
          );
      const pct = (x: number) => (100 * x).toFixed(1);
      o.out(`quiz ${k.questions} questions about people only the pretraining text mentions (chance ${pct(k.chance)})`);
      o.out(`knowledge-person ${pct(k.person)}`);
      o.out(`knowledge ${pct(k.knowledge)}`);
    }
    if (score.sameLength !== null) o.out(`same-length ${(100 * score.sameLength).toFixed(1)}`);
    o.out(`format ${(100 * score.format).toFixed(1)}`);
  } finally {
    model.dispose();
  }
}

export async function sample(v: Values, ctl: AbortController, o: Sink): Promise<number> {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'sample')));
  const model = await modelWithAdapter(v, ckpt, o);
  const tok = ckpt.tokenizer;
  try {
    const prompt = v.chat ? renderPrompt(v.prompt ?? '') : (v.prompt ?? '\n');
    const enc = tok.encode(prompt);
    if (enc.unknownCount) o.err(`note: ${enc.unknownCount} prompt character(s) are outside the vocabulary`);
    const stop = v.chat ? tok.encode(DEFAULT_TEMPLATE.end).ids : undefined;
    if (!v.chat) o.write(v.prompt ?? '');
    const stream = tok.decoder();
    await generate(model, enc.ids, {
      maxNewTokens: num(v, 'tokens', 500, { int: true, min: 0, max: MAX_COUNT }),
      temperature: num(v, 'temperature', LESSON_SAMPLING.temperature, { min: 0, max: MAX_TEMPERATURE }),
      topK: num(v, 'top-k', 0, { int: true, min: 0, max: MAX_VOCAB_SIZE }),
      topP: num(v, 'top-p', 1, { min: 0, max: 1 }),
      seed: num(v, 'seed', 1337, { int: true, min: 0, max: MAX_SEED }),
      stop,
      signal: ctl.signal,
      // On WebGPU one input shape, as the page samples there (its programs compile per shape; on an H200 the
      // window recomputed per token ran 1.4× faster than the cache's growing shapes: README, Benchmark).
      fixedShape: compilesPerShape(),
      // A stream: under BPE a character spelled in byte tokens is written once all its bytes are out.
      onToken: (id) => void o.write(stream.push(id)),
    });
    o.write(stream.flush() + '\n');
    return ctl.signal.aborted ? INTERRUPTED : 0;
  } finally {
    model.dispose();
  }
}

/** Rewrite a checkpoint in another storage type (F16 halves the file; loading converts back exactly). */
export function convert(v: Values, o: Sink) {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'convert')));
  const dtype = (v.dtype ?? 'f16').toUpperCase();
  if (dtype !== 'F16' && dtype !== 'F32') throw new UsageError(`--dtype must be f16 or f32, got "${v.dtype}"`);
  const out = writableOutput(need(v, 'out', 'convert'), o);
  const values = new Map([...ckpt.params].map(([n, t]) => [n, t.data]));
  write(out, checkpointBytes(ckpt.config, values, ckpt.tokenizer, ckpt.training, dtype), o);
}

export function info(v: Values, o: Sink) {
  const path = need(v, 'ckpt', 'info');
  const bytes = readBytes(path);
  const ckpt = readCheckpoint(bytes);
  const c = ckpt.config;
  o.out(`${path}: ${(bytes.length / 1024).toFixed(1)} KiB`);
  o.out(`model: ${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.blockSize}, dropout ${c.dropout}, bias ${c.bias}`);
  o.out(`parameters: ${countParams(c).toLocaleString('en')}`);
  const tok = ckpt.tokenizer;
  // A BPE vocabulary starts with 256 byte tokens: show its base characters and first merges instead.
  const first = tok.kind === 'char' ? 0 : Math.min(BYTE_TOKENS, tok.vocabSize - 1);
  const shown = Array.from({ length: Math.min(40, tok.vocabSize - first) }, (_, i) => JSON.stringify(tok.tokenText(first + i))).join(' ');
  const kind = tok instanceof BpeTokenizer ? `BPE (${BYTE_TOKENS} bytes, ${tok.chars.length} characters, ${tok.merges.length} merges)` : 'characters';
  o.out(`vocabulary: ${c.vocabSize} tokens, ${kind}: ${first ? '… ' : ''}${shown}${c.vocabSize > first + 40 ? ' …' : ''}`);
  o.out(`training: ${JSON.stringify(ckpt.training)}`);
}
