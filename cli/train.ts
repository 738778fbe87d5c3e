/**
 * `pretrain` and `finetune`: a run's data, model and spec, the training loop with its progress, and the
 * atomic save of what was trained (also when Ctrl-C stops it).
 */
import * as tf from '../src/engine/tf';
import { countParams, isPresetName, PRESET_NAMES, PRESETS, validateConfig, type GPTConfig } from '../src/engine/model/config';
import { GPT } from '../src/engine/model/gpt';
import { nodeThreads } from './backend';
import { LARGE_CHAR_VOCAB, MEMORY_BUDGET, memoryError, memoryProblem } from '../src/engine/model/memory';
import { checkText, FEW_DISTINCT_CHARS, trainingText } from '../src/engine/data/corpus';
import { parsePairsStrict } from '../src/documents/pairsFile';
import { prepareCorpus, preparePairs } from '../src/engine/data/prepare';
import { exportCheckpoint, modelFromCheckpoint, readCheckpoint, type TrainingInfo } from '../src/engine/io/checkpoint';
import { exportAdapter, exportMerged } from '../src/engine/io/adapter';
import { LoraAdapters } from '../src/engine/model/lora';
import { describePlan, validatePlan } from '../src/engine/train/freeze';
import type { Schedule } from '../src/engine/train/schedule';
import { finetuneSpec, pretrainSpec, runSeed } from '../src/engine/train/specs';
import { finetuneRecipe, PAIRS_SPLIT_SEED, PAIRS_VAL_FRACTION } from '../src/engine/train/lesson';
import { Trainer, type TrainSpec } from '../src/engine/train/trainer';
import { BpeTokenizer, BYTE_TOKENS } from '../src/engine/tokenizer/bpe';
import { trainBpe, type BpeProgress } from '../src/engine/tokenizer/bpeTrain';
import type { Tokenizer } from '../src/engine/tokenizer/types';
import { readBytes, readInput } from './inputs';
import { writableOutput, writeAtomic } from './output';
import { Progress } from './progress';
import type { Sink } from './sink';
import { INTERRUPTED, UsageError, type Values, archNum, need, num, pretrainRecipe, settingsFromFlags, tokenizerArg } from './args';

export async function train(trainer: Trainer, spec: TrainSpec, ctl: AbortController, o: Sink) {
  const progress = new Progress(spec.steps, o);
  const result = await trainer.run(
    spec,
    {
      onStep: (m) => progress.step(m),
      onEval: (e) => progress.eval(e),
      onFreezeChange: (e) => {
        if (spec.freeze && spec.freeze.kind !== 'none')
          progress.line(`step ${e.step}: training ${Object.keys(e.trainable).join(', ')} (${e.trainableParams.toLocaleString('en')} parameters)`);
      },
    },
    ctl.signal,
  );
  progress.end();
  return result;
}

function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case 'cosine':
      return `lr ${s.lr} warmup ${s.warmupSteps} then cosine to ${s.minLr} at step ${s.decaySteps}`;
    case 'constant':
      return `lr ${s.lr} constant${s.warmupSteps ? ` after warmup ${s.warmupSteps}` : ''}`;
    case 'slanted':
      return `lr ${s.lr} slanted (rise ${s.cutFrac}, ratio ${s.ratio})`;
  }
}

const kib = (bytes: Uint8Array) => `${(bytes.length / 1024).toFixed(1)} KiB`;

export function write(path: string, bytes: Uint8Array, o: Sink) {
  writeAtomic(path, bytes);
  o.out(`wrote ${path} (${kib(bytes)})`);
}

/**
 * The end of a training run: the model is written (atomically) whether the run finished or was interrupted;
 * an interrupted run says so in one line and exits with INTERRUPTED. Interrupted before its first step, it
 * writes nothing (the previous file, if any, stays).
 */
async function saveRun(o: Sink, out: string, r: { stepsDone: number; aborted: boolean }, bytes: () => Promise<Uint8Array>, total?: number): Promise<number> {
  if (!r.aborted) {
    write(out, await bytes(), o);
    return 0;
  }
  if (r.stepsDone === 0) {
    o.out(`interrupted before the first step: nothing was written`);
    return INTERRUPTED;
  }
  const b = await bytes();
  writeAtomic(out, b);
  const inAll = total !== undefined && total !== r.stepsDone ? ` (step ${total} in all)` : '';
  o.out(`interrupted at step ${r.stepsDone}${inAll}: saved what was trained to ${out} (${kib(b)})`);
  return INTERRUPTED;
}

/** Warns when some characters of an input are outside the model's vocabulary (they become the unknown token). */
function warnUnknown(o: Sink, what: string, unknownChars: [string, number][]) {
  if (!unknownChars.length) return;
  const n = unknownChars.reduce((a, [, c]) => a + c, 0);
  o.out(
    `warning: ${n} character(s) of ${what} are not in the model's vocabulary and map to the unknown token: ${unknownChars
      .slice(0, 20)
      .map(([c]) => JSON.stringify(c))
      .join(' ')}`,
  );
}

/**
 * Train the BPE tokenizer on the text's first 90 % (the part the model trains on: the validation tenth
 * stays unseen by the tokenizer too), with a progress bar on a terminal. Null when Ctrl-C stopped it.
 */
async function trainTokenizer(text: string, size: number | undefined, ctl: AbortController, o: Sink): Promise<BpeTokenizer | null> {
  const part = trainingText(text);
  const started = performance.now();
  const tty = o.tty;
  let shown = 0;
  const onProgress = (p: BpeProgress) => {
    if (!tty || performance.now() - shown < 100) return;
    shown = performance.now();
    const what = p.phase === 'counting' ? 'counting' : `merge ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')}`;
    o.write(`\r\x1b[2Ktraining the tokenizer: ${what}`);
  };
  let tok: BpeTokenizer;
  try {
    tok = await trainBpe(part, { vocabSize: size, onProgress, signal: ctl.signal });
  } catch (e) {
    if (ctl.signal.aborted) return null;
    throw e;
  } finally {
    if (tty) o.write('\r\x1b[2K');
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  o.out(
    `tokenizer BPE: ${tok.vocabSize.toLocaleString('en')} tokens (${BYTE_TOKENS} bytes, ${tok.chars.length.toLocaleString('en')} characters, ${tok.merges.length.toLocaleString('en')} merges), trained in ${seconds} s on ${part.length.toLocaleString('en')} characters`,
  );
  if (size !== undefined && tok.vocabSize < size)
    o.out(`note: no pair of tokens occurs twice any more, so the vocabulary stopped at ${tok.vocabSize} of the ${size} asked for`);
  return tok;
}

const BACKEND_NAMES: Record<string, string> = { wasm: 'WebAssembly', cpu: 'the CPU backend' };

/** Refuse, before any tensor exists, a run the backend cannot hold (it would grow for minutes, then crash). */
function checkMemory(config: GPTConfig, batch: number): void {
  const backend = tf.getBackend();
  const problem = memoryProblem(config, batch, (MEMORY_BUDGET as Record<string, number | null>)[backend] ?? null);
  if (problem) throw memoryError(problem, BACKEND_NAMES[backend] ?? backend);
}

export async function pretrain(v: Values, ctl: AbortController, o: Sink): Promise<number> {
  const textArg = need(v, 'text', 'pretrain');
  const outArg = need(v, 'out', 'pretrain');
  const presetName = v.preset ?? 'tiny';
  if (!isPresetName(presetName)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${presetName}"`);
  const p = PRESETS[presetName];
  const arch = {
    nLayer: archNum(v, 'layers', 'nLayer', p.nLayer),
    nHead: archNum(v, 'heads', 'nHead', p.nHead),
    nEmbd: archNum(v, 'embd', 'nEmbd', p.nEmbd),
    blockSize: archNum(v, 'block', 'blockSize', p.blockSize),
    dropout: num(v, 'dropout', p.dropout, { min: 0, max: 0.99 }),
    bias: v.bias ?? p.bias,
  };
  const settings = settingsFromFlags(v, 'pretrain', pretrainRecipe(v, presetName));
  const { seed, lr, batchSize: batch } = settings;
  const tokArg = tokenizerArg(v);
  const out = writableOutput(outArg, o);
  const input = readInput(textArg, 'corpus');
  let tokenizer: Tokenizer | undefined;
  if (tokArg.kind === 'bpe') {
    checkText(input.text);
    const trained = await trainTokenizer(input.text, tokArg.size, ctl, o);
    if (!trained) {
      o.out('interrupted while training the tokenizer: nothing was written');
      return INTERRUPTED;
    }
    tokenizer = trained;
  }
  const data = prepareCorpus(input.text, arch.blockSize, tokenizer);
  const config: GPTConfig = validateConfig({ ...arch, vocabSize: data.tokenizer.vocabSize });
  checkMemory(config, batch);
  if (tokArg.kind === 'char' && config.vocabSize - 2 < FEW_DISTINCT_CHARS)
    o.out(`warning: the text has only ${config.vocabSize - 2} distinct character(s): a model has almost nothing to learn from it`);
  if (tokArg.kind === 'char' && config.vocabSize > LARGE_CHAR_VOCAB)
    o.out(
      `warning: the text has ${(config.vocabSize - 2).toLocaleString('en')} distinct characters, so the character vocabulary (${config.vocabSize.toLocaleString('en')}) makes the embedding and the logits most of the model: --tokenizer bpe trains a smaller vocabulary`,
    );
  const perToken =
    tokArg.kind === 'bpe' ? `, ${((data.trainChars + data.valChars) / (data.trainTokens + data.valTokens)).toFixed(2)} characters per token` : '';
  o.out(
    `pretrain ${input.name}: ${data.trainTokens.toLocaleString('en')} train / ${data.valTokens.toLocaleString('en')} val tokens, vocabulary ${config.vocabSize}${perToken}`,
  );
  o.out(
    `model ${presetName}: ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, context ${config.blockSize}, ${countParams(config).toLocaleString('en')} parameters, backend ${tf.getBackend()}${tf.getBackend() === 'wasm' ? ` on ${nodeThreads()} thread${nodeThreads() === 1 ? '' : 's'}` : ''}`,
  );
  const spec = pretrainSpec(settings, data);
  o.out(
    `run (recipe ${v.recipe ?? 'lesson'}): ${spec.steps} steps, batch ${batch}${(spec.gradAccum ?? 1) > 1 ? ` × ${spec.gradAccum}` : ''}, ${describeSchedule(spec.schedule)}, seed ${seed}`,
  );
  const model = GPT.create(config, seed);
  const trainer = new Trainer(model, { seed });
  try {
    const r = await train(trainer, spec, ctl, o);
    const info: TrainingInfo = {
      step: r.stepsDone,
      phase: 'pretrain',
      dataset: input.entry?.id ?? input.name,
      seed,
      lr,
      batch,
      losses: r.lastEval?.losses ?? { train: r.lastLoss },
    };
    if (tokArg.kind === 'bpe') info.tokenizer = `bpe:${data.tokenizer.vocabSize}`;
    return await saveRun(o, out, r, () => exportCheckpoint(model, data.tokenizer, info));
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

export async function finetune(v: Values, ctl: AbortController, o: Sink): Promise<number> {
  const initPath = need(v, 'init', 'finetune');
  const pairsArg = need(v, 'pairs', 'finetune');
  const outArg = need(v, 'out', 'finetune');
  // A bundled lesson's pairs bring the fine-tune measured for them (lesson.ts), as in the page.
  const recipe = finetuneRecipe(pairsArg);
  const settings = settingsFromFlags(v, 'finetune', recipe.run, recipe.freeze);
  const { seed, lr, batchSize: batch, discriminative } = settings;
  const ckpt = readCheckpoint(readBytes(initPath));
  const plan = validatePlan(settings.freeze, ckpt.config.nLayer);
  checkMemory(ckpt.config, batch);
  const out = writableOutput(outArg, o);
  const input = readInput(pairsArg, 'pairs');
  const pairs = parsePairsStrict(input.text, input.name);
  const data = preparePairs(ckpt.tokenizer, pairs, ckpt.config.blockSize, { seed: PAIRS_SPLIT_SEED, valFraction: PAIRS_VAL_FRACTION });
  o.out(
    `finetune ${initPath} on ${input.name}: ${data.trainPairs} train / ${data.valPairs} val pairs, ${settings.lora ? 'LoRA (every weight frozen)' : `freeze ${describePlan(plan)}`}${discriminative ? `, discriminative ×1/${discriminative}` : ''}`,
  );
  if (data.valPairs === 0) o.out(`warning: ${input.name} has a single pair: none is held out, so the pairs-val loss is the training loss`);
  if (data.truncatedCount) o.out(`warning: ${data.truncatedCount} pair(s) are longer than the context (${ckpt.config.blockSize}) and were truncated`);
  warnUnknown(o, input.name, data.unknownChars);
  let forgetting = null;
  if (v.text) {
    const text = readInput(v.text, 'corpus');
    forgetting = prepareCorpus(text.text, ckpt.config.blockSize, ckpt.tokenizer);
    warnUnknown(o, `${text.name} (the forgetting curve's text)`, forgetting.unknownChars);
  }
  const model = modelFromCheckpoint(ckpt);
  if (settings.lora) {
    model.setLora(LoraAdapters.create(ckpt.config, settings.lora, seed));
    o.out(
      `LoRA rank ${settings.lora.rank}, alpha ${settings.lora.alpha} on ${settings.lora.targets}: ${model.lora!.size.toLocaleString('en')} trainable parameters (${((100 * model.lora!.size) / countParams(ckpt.config)).toFixed(2)} % of the model's ${countParams(ckpt.config).toLocaleString('en')})`,
    );
  }
  const trainer = new Trainer(model, { seed });
  // As the page does (a model continued, not restarted from a snapshot): the CLI and the page draw the same batches.
  trainer.reseed(runSeed(seed, false, ckpt.training.step ?? 0));
  try {
    const r = await train(trainer, finetuneSpec({ ...settings, freeze: plan }, data, ckpt.tokenizer, forgetting), ctl, o);
    const info: TrainingInfo = {
      ...ckpt.training,
      step: (ckpt.training.step ?? 0) + r.stepsDone,
      phase: 'finetune',
      freezePlan: plan,
      discriminative,
      pairs: input.entry?.id ?? input.name,
      seed,
      lr,
      batch,
      losses: r.lastEval?.losses ?? { 'pairs-train': r.lastLoss },
    };
    if (settings.lora) info.lora = settings.lora;
    const bytes = !settings.lora
      ? () => exportCheckpoint(model, ckpt.tokenizer, info)
      : v.export === 'adapter'
        ? () => exportAdapter(model)
        : () => exportMerged(model, ckpt.tokenizer, info);
    return await saveRun(o, out, r, bytes, info.step);
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
