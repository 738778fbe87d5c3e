/**
 * LoRA exports.
 *
 * Merged: the adapters folded into the weights (W + (α/r)·B·A), written as an ordinary checkpoint, so the
 * file is a plain nanoGPT state dict.
 *
 * Adapter only: a small .safetensors file of the A and B tensors (names `transformer.h.N.<layer>.lora_A/B`)
 * with metadata
 *   format            "small-gpt-playground/lora/1"
 *   lora              JSON {rank, alpha, targets}
 *   base_fingerprint  weightsFingerprint of the base model it was trained on
 *   model_args        the base model's nanoGPT model_args
 * Loading it onto any other base is refused: the same A and B mean something else on other weights.
 */
import * as tf from '../tf';
import { toModelArgs, type GPTConfig } from '../model/config';
import type { GPT } from '../model/gpt';
import { adapterSpecs, LoraAdapters, LoraError, validateLora, weightsFingerprint, type LoraConfig } from '../model/lora';
import type { Tokenizer } from '../tokenizer/types';
import { ADAPTER_FORMAT, checkpointBytes, snapshotParams, type TrainingInfo } from './checkpoint';
import { readSafetensors, readSafetensorsMetadata, SafetensorsError, writeSafetensors, type RawTensor } from './safetensors';
import { EngineError, type EngineErrorCode } from '../errors';

/** An adapter file damaged inside: its coded reason said inside loraAdapterDamaged's sentence in the page's language. */
const damagedAdapter = (detail: string, code: EngineErrorCode) =>
  new LoraError(`the adapter file is damaged: ${detail}`, 'loraAdapterDamaged', {}, new EngineError(detail, code));

export { ADAPTER_FORMAT };

function requireLora(model: GPT): LoraAdapters {
  if (!model.lora) throw new LoraError('this model has no LoRA adapters to export', 'loraMissing');
  return model.lora;
}

/** LoRA adapters read back to the CPU, with the base weights they were trained on (what an adapter file holds). */
export interface AdaptersOnCpu {
  lora: LoraConfig;
  values: Map<string, Float32Array>;
  base: Map<string, Float32Array>;
}

/**
 * A model's weights read back once, as its files hold them: `merged`, the adapters folded in (its own weights
 * when it has none), and for a LoRA model the adapters with their base (the model's own, unmerged weights).
 * A sync point. Merged on the device with the same kernels that fold adapters into a model before its next run
 * (ModelOwner), so the exported file and the folded weights are bit-identical.
 */
export async function readBackWeights(model: GPT): Promise<{ merged: Map<string, Float32Array>; adapters?: AdaptersOnCpu }> {
  const base = await snapshotParams(model);
  const lora = model.lora;
  if (!lora) return { merged: base };
  const merged = new Map(base);
  for (const { weight } of lora.specs) {
    const m = tf.tidy(() => lora.adapt(weight, model.params.get(weight)!)); // W + (α/r)·B·A
    try {
      merged.set(weight, (await m.data()) as Float32Array);
    } finally {
      m.dispose();
    }
  }
  return { merged, adapters: { lora: lora.lora, values: await lora.values(), base } };
}

/** A checkpoint file with the adapters folded in: a plain nanoGPT model. */
export async function exportMerged(model: GPT, tokenizer: Tokenizer, training: TrainingInfo): Promise<Uint8Array> {
  const lora = requireLora(model);
  return checkpointBytes(model.config, (await readBackWeights(model)).merged, tokenizer, { ...training, lora: lora.lora, merged: true });
}

/** The adapter-only file: A and B, rank, α, targets and the base's fingerprint. A sync point. */
export async function exportAdapter(model: GPT): Promise<Uint8Array> {
  requireLora(model);
  return adapterBytes(model.config, (await readBackWeights(model)).adapters!);
}

/** The adapter-only file for adapter values held on the CPU, trained on the base weights `base`. */
export function adapterBytes(config: GPTConfig, { lora, values, base }: AdaptersOnCpu): Uint8Array {
  const tensors = new Map<string, RawTensor>();
  for (const spec of adapterSpecs(config, lora)) {
    for (const t of [spec.a, spec.b]) {
      const data = values.get(t.name);
      if (!data) throw new LoraError(`no values for adapter tensor ${t.name}`);
      tensors.set(t.name, { shape: t.shape, data });
    }
  }
  return writeSafetensors(tensors, {
    format: ADAPTER_FORMAT,
    lora: JSON.stringify(lora),
    base_fingerprint: weightsFingerprint(base),
    model_args: JSON.stringify(toModelArgs(config)),
  });
}

export interface AdapterFile {
  lora: LoraConfig;
  baseFingerprint: string;
  values: Map<string, Float32Array>;
}

/**
 * Whether `bytes` say they are a LoRA adapter file (its header's metadata; no tensor decoded). False for a
 * model file or a header that cannot be read, which the model reader then explains.
 */
export function isAdapterFile(bytes: Uint8Array): boolean {
  try {
    return readSafetensorsMetadata(bytes).format === ADAPTER_FORMAT;
  } catch {
    return false;
  }
}

/** Parse an adapter file completely, creating no tensors. */
export function readAdapter(bytes: Uint8Array): AdapterFile {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (e) {
    // What is wrong with it said inside the sentence, in the page's language (the reader's coded reason).
    if (e instanceof SafetensorsError) throw new LoraError(e.message, 'loraAdapterUnreadable', {}, e.cause);
    throw e;
  }
  const meta = file.metadata;
  if (meta.format !== ADAPTER_FORMAT) {
    throw new LoraError(`not a LoRA adapter file (format "${meta.format ?? 'none'}", expected "${ADAPTER_FORMAT}")`, 'loraNotAdapter');
  }
  let lora: LoraConfig;
  try {
    lora = JSON.parse(meta.lora) as LoraConfig;
  } catch {
    throw damagedAdapter('its "lora" metadata is not valid JSON', 'adapterLoraJson');
  }
  validateLora(lora);
  if (typeof meta.base_fingerprint !== 'string' || !meta.base_fingerprint)
    throw damagedAdapter('it has no base_fingerprint in its metadata', 'adapterNoFingerprint');
  const values = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) values.set(name, t.data);
  return { lora, baseFingerprint: meta.base_fingerprint, values };
}

/**
 * Attach the adapters of a file to `model` (replacing any it has), after checking that the model is the
 * base they were trained on. A wrong base is refused and the model is left as it was. A sync point.
 */
export async function loadAdapter(model: GPT, bytes: Uint8Array): Promise<void> {
  const file = readAdapter(bytes);
  const fingerprint = weightsFingerprint(await snapshotParams(model));
  if (fingerprint !== file.baseFingerprint) {
    throw new LoraError(
      `this adapter was trained on another base model (fingerprint ${file.baseFingerprint}, this model's is ${fingerprint}): load the model it was fine-tuned from first`,
      'loraWrongBase',
      { expected: file.baseFingerprint, actual: fingerprint },
    );
  }
  model.setLora(new LoraAdapters(model.config as GPTConfig, file.lora, file.values));
}
