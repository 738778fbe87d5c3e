/**
 * Model checkpoints as ONE .safetensors file that nanoGPT loads:
 *   tensors   nanoGPT's state_dict names and layouts, F32; the tied head written as both
 *             transformer.wte.weight and lm_head.weight
 *   metadata  model_args  JSON of nanoGPT's model_args
 *             itos        JSON array of the token strings in id order (character-level models)
 *             tokenizer   JSON {kind: "bpe", version, chars, merges} (BPE models, tokenizer/bpe.ts)
 *             vocab       JSON array of each BPE token's bytes in hex, id order (for other programs)
 *             training    JSON: step, phase, freeze plan, …
 *             format      "small-gpt-playground/1"
 */
import * as tf from '../tf';
import { fromModelArgs, toModelArgs, type GPTConfig } from '../model/config';
import { GPT } from '../model/gpt';
import { createVariable, LM_HEAD, paramSpecs, WTE, type Params } from '../model/params';
import { tokenizerFromMetadata } from '../tokenizer/load';
import type { Tokenizer } from '../tokenizer/types';
import type { FreezePlan } from '../train/freeze';
import { readSafetensors, writeSafetensors, type RawTensor, type SafetensorsFile } from './safetensors';
import { CheckpointError, checkModelArgs, checkTraining, damaged } from './metadata';

export { CheckpointError };

export const FORMAT = 'small-gpt-playground/1';
/** LoRA's adapter-only files (io/adapter.ts): refused here as a model, with what to do instead. */
export const ADAPTER_FORMAT = 'small-gpt-playground/lora/1';

export interface TrainingInfo {
  /** Optimizer steps this model has taken in total. */
  step: number;
  phase: 'init' | 'pretrain' | 'finetune';
  /** The freeze plan of the last fine-tuning run, if any. */
  freezePlan?: FreezePlan;
  /** Anything else worth keeping (dataset, seed, schedule, losses). */
  [key: string]: unknown;
}

export interface Checkpoint {
  config: GPTConfig;
  tokenizer: Tokenizer;
  /** Parameter values by nanoGPT name (lm_head omitted: it is wte). */
  params: Map<string, RawTensor>;
  training: TrainingInfo;
}

/** Reads every parameter back (a sync point) and writes the file. */
export async function exportCheckpoint(model: GPT, tokenizer: Tokenizer, training: TrainingInfo): Promise<Uint8Array> {
  return checkpointBytes(model.config, await snapshotParams(model), tokenizer, training);
}

/** The checkpoint file for parameter values held on the CPU (a model's, or a saved snapshot's). */
export function checkpointBytes(
  config: GPTConfig,
  values: Map<string, Float32Array>,
  tokenizer: Tokenizer,
  training: TrainingInfo,
  dtype: 'F32' | 'F16' = 'F32',
): Uint8Array {
  const { tensors, metadata } = checkpointContents(config, values, tokenizer, training);
  return writeSafetensors(tensors, metadata, dtype);
}

/** What a checkpoint file holds — tensors under nanoGPT's names and the metadata — before it is written. */
export function checkpointContents(config: GPTConfig, values: Map<string, Float32Array>, tokenizer: Tokenizer, training: TrainingInfo): SafetensorsFile {
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new CheckpointError(`tokenizer has ${tokenizer.vocabSize} tokens, model has ${config.vocabSize}`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const spec of paramSpecs(config)) {
    const data = values.get(spec.name);
    if (!data) throw new CheckpointError(`no values for ${spec.name}`);
    tensors.set(spec.name, { shape: spec.shape, data });
  }
  // nanoGPT's state_dict lists lm_head.weight last; it is the same tensor as wte (weight tying).
  tensors.set(LM_HEAD, tensors.get(WTE)!);
  return {
    tensors,
    metadata: {
      format: FORMAT,
      model_args: JSON.stringify(toModelArgs(config)),
      // A char model writes `itos` here, exactly as before BPE existed; a BPE model `tokenizer` and `vocab`.
      ...tokenizer.metadata(),
      training: JSON.stringify(training),
    },
  };
}

function parseJsonField(meta: Record<string, string>, key: string): unknown {
  if (!(key in meta))
    throw new CheckpointError(`the file has no "${key}" in its metadata: it was not written by this app or nanoGPT's exporter`, 'checkpointNoMetadata', {
      key,
    });
  try {
    return JSON.parse(meta[key]);
  } catch (e) {
    throw new CheckpointError(`metadata "${key}" is not valid JSON (${(e as Error).message})`, 'checkpointJson', { key });
  }
}

/**
 * The largest weight magnitude a model file may hold. Trained weights here stay within a few units (GPT-2's
 * within a few dozen); one past this is a damaged file, and would give a NaN loss a few steps later.
 */
export const MAX_WEIGHT = 1e4;

/** Refuses a tensor holding a non-finite or absurdly large value, naming it and the first such index. */
function checkWeights(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const w = data[i];
    if (Math.abs(w) <= MAX_WEIGHT) continue; // false for NaN too
    if (!Number.isFinite(w))
      throw new CheckpointError(`tensor ${name} holds a non-finite value (${w}) at index ${i}`, 'checkpointNonFinite', {
        tensor: name,
        value: String(w),
        index: i,
      });
    throw new CheckpointError(`tensor ${name} holds ${w} at index ${i}, beyond ±${MAX_WEIGHT}: the file is damaged`, 'checkpointHugeWeight', {
      tensor: name,
      value: String(w),
      index: i,
      max: MAX_WEIGHT,
    });
  }
}

/**
 * Parse and validate a checkpoint file completely, creating no tensors: callers swap models only after
 * this succeeds, so a bad file leaves the current model untouched.
 */
export function readCheckpoint(bytes: Uint8Array): Checkpoint {
  // A file that is no safetensors file at all is said as such (a SafetensorsError, notSafetensors).
  return checkpointFromFile(readSafetensors(bytes));
}

/** Validate an already-parsed safetensors file as a model checkpoint (creates no tensors). */
export function checkpointFromFile(file: SafetensorsFile): Checkpoint {
  if (file.metadata.format === ADAPTER_FORMAT) {
    throw new CheckpointError(
      'this is a LoRA adapter file, not a model: attach it to the model it was trained on (CLI: --ckpt BASE --adapter FILE)',
      'loraAdapterFile',
    );
  }
  const args = checkModelArgs(parseJsonField(file.metadata, 'model_args'));
  let config: GPTConfig;
  try {
    // bias and dropout default as in nanoGPT's GPTConfig when an older exporter left them out.
    config = fromModelArgs({ ...args, bias: args.bias ?? file.tensors.has('transformer.ln_f.bias'), dropout: args.dropout ?? 0 });
  } catch (e) {
    throw new CheckpointError(`model_args describe an impossible model: ${(e as Error).message}`, 'checkpointModelArgs', {}, e);
  }
  let tokenizer: Tokenizer | null;
  try {
    tokenizer = tokenizerFromMetadata(file.metadata);
  } catch (e) {
    throw new CheckpointError((e as Error).message, 'checkpointTokenizer', {}, e);
  }
  if (!tokenizer)
    throw new CheckpointError('the file has no "itos" in its metadata: it was not written by this app or nanoGPT\'s exporter', 'checkpointNoMetadata', {
      key: 'itos',
    });
  if (tokenizer.vocabSize !== config.vocabSize) {
    const [what, code] = tokenizer.kind === 'char' ? (['itos', 'ckItosVocab'] as const) : (['the BPE tokenizer', 'ckBpeVocab'] as const);
    throw damaged(`${what} has ${tokenizer.vocabSize} tokens but model_args.vocab_size is ${config.vocabSize}`, code, {
      tokens: tokenizer.vocabSize,
      vocab: config.vocabSize,
    });
  }
  const training: TrainingInfo =
    'training' in file.metadata ? checkTraining(parseJsonField(file.metadata, 'training'), config.nLayer) : { step: 0, phase: 'init' };

  // torch.compile'd models save names with an _orig_mod. prefix; nanoGPT strips it, and so do we.
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of file.tensors) tensors.set(name.replace(/^_orig_mod\./, ''), t);
  const params = new Map<string, RawTensor>();
  for (const spec of paramSpecs(config)) {
    const t = tensors.get(spec.name);
    if (!t)
      throw damaged(`tensor ${spec.name} is missing (model_args say ${config.nLayer} layers, bias ${config.bias})`, 'ckMissing', {
        name: spec.name,
        layers: config.nLayer,
        bias: String(config.bias),
      });
    if (t.shape.join() !== spec.shape.join()) {
      throw damaged(`tensor ${spec.name} has shape [${t.shape}], model_args need [${spec.shape}]`, 'ckShape', {
        name: spec.name,
        got: t.shape.join(', '),
        need: spec.shape.join(', '),
      });
    }
    checkWeights(spec.name, t.data);
    params.set(spec.name, t);
    tensors.delete(spec.name);
  }
  const head = tensors.get(LM_HEAD);
  if (head) {
    const wte = params.get(WTE)!;
    if (head.shape.join() !== wte.shape.join() || head.data.some((v, i) => v !== wte.data[i])) {
      throw damaged(`${LM_HEAD} differs from ${WTE}; this architecture ties them (weight tying), so they must be equal`, 'ckUntied', {
        head: LM_HEAD,
        wte: WTE,
      });
    }
    tensors.delete(LM_HEAD);
  }
  // PyTorch < 2.0 saves the causal-mask buffer as attn.bias; it is not a parameter.
  for (const name of [...tensors.keys()]) if (/^transformer\.h\.\d+\.attn\.bias$/.test(name)) tensors.delete(name);
  if (tensors.size)
    throw damaged(`unexpected tensors for this model: ${[...tensors.keys()].slice(0, 5).join(', ')}`, 'ckUnexpected', {
      names: [...tensors.keys()].slice(0, 5).join(', '),
    });
  return { config, tokenizer, params, training };
}

/** Build a model from a validated checkpoint. */
export function modelFromCheckpoint(ckpt: Checkpoint): GPT {
  const params: Params = new Map();
  try {
    for (const [name, t] of ckpt.params) params.set(name, createVariable(name, t.data, t.shape));
    return new GPT(ckpt.config, params);
  } catch (e) {
    for (const v of params.values()) v.dispose();
    throw e;
  }
}

/** Copy of every parameter's values (for snapshots and bit-identity checks). A sync point. */
export async function snapshotParams(model: GPT): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.params) out.set(name, (await v.data()) as Float32Array);
  return out;
}

/** Overwrite a model's parameters with saved values of the same shapes. */
export function restoreParams(model: GPT, values: Map<string, Float32Array>): void {
  for (const [name, v] of model.params) {
    const saved = values.get(name);
    if (!saved || saved.length !== v.size) throw new CheckpointError(`snapshot has no matching values for ${name}`);
    tf.tidy(() => v.assign(tf.tensor(saved, v.shape)));
  }
}
