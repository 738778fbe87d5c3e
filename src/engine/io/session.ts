/**
 * A resumable session: everything needed to continue training exactly where it stopped — the model
 * (nanoGPT names, as in an exported checkpoint), the optimizer's moments and step counts, the trainer's
 * step and random state, and an optional pretrained snapshot.
 *
 * Stored as one safetensors file; tensors: the model's own names, `optimizer.m.<name>`,
 * `optimizer.v.<name>`, `snapshot.<name>`, and with LoRA adapters attached `lora.<adapter name>` (their
 * settings in the metadata's `lora`). The model part is validated as a checkpoint.
 */
import type { LoraConfig } from '../model/loraConfig';
import type { GPT } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import type { SavedSlot } from '../train/adamw';
import type { Trainer } from '../train/trainer';
import { CheckpointError, checkpointContents, checkpointFromFile, snapshotParams, type Checkpoint, type TrainingInfo } from './checkpoint';
import { readSafetensors, writeSafetensors, type RawTensor } from './safetensors';
import { EngineError, type EngineErrorCode, type ErrorParams } from '../errors';

export interface SessionState {
  globalStep: number;
  rng: [number, number, number, number];
  optimizer: Map<string, SavedSlot>;
  snapshot: Map<string, Float32Array> | null;
  /** The LoRA adapters that were attached (the caller attaches them again), or null. */
  lora: { config: LoraConfig; values: Map<string, Float32Array> } | null;
}

export async function saveSession(
  model: GPT,
  tokenizer: Tokenizer,
  trainer: Trainer,
  training: TrainingInfo,
  snapshot: Map<string, Float32Array> | null,
): Promise<Uint8Array> {
  const base = checkpointContents(model.config, await snapshotParams(model), tokenizer, training);
  const tensors = new Map<string, RawTensor>(base.tensors);
  const steps: Record<string, number> = {};
  const adapters = model.lora;
  if (adapters) for (const [name, data] of await adapters.values()) tensors.set(`lora.${name}`, { shape: adapters.params.get(name)!.shape, data });
  for (const [name, slot] of await trainer.optimizer.save()) {
    const shape = (model.params.get(name) ?? adapters?.params.get(name))!.shape;
    tensors.set(`optimizer.m.${name}`, { shape, data: slot.m });
    tensors.set(`optimizer.v.${name}`, { shape, data: slot.v });
    steps[name] = slot.step;
  }
  if (snapshot) for (const [name, data] of snapshot) tensors.set(`snapshot.${name}`, { shape: model.params.get(name)!.shape, data });
  return writeSafetensors(tensors, {
    ...base.metadata,
    ...(adapters ? { lora: JSON.stringify(adapters.lora) } : {}),
    session: JSON.stringify({ globalStep: trainer.globalStep, rng: trainer.rngState, optimizerSteps: steps }),
  });
}

/**
 * A session file damaged inside: what is wrong is a coded reason of its own, said inside sessionDamaged's sentence
 * in the page's language (a parameter's name is data, shown as it is); the English message is the CLI's.
 */
function damaged(detail: string, code: EngineErrorCode, params: ErrorParams = {}): CheckpointError {
  return new CheckpointError(`the saved session is damaged: ${detail}`, 'sessionDamaged', {}, new EngineError(detail, code, params));
}

export function readSession(bytes: Uint8Array): { checkpoint: Checkpoint; state: SessionState } {
  const file = readSafetensors(bytes);
  if (!file.metadata.session) throw new CheckpointError('this file is a model, not a saved session (no "session" metadata)', 'sessionNotSession');
  // Older sessions also hold `extra` (always {}, nothing wrote more): it parses and is ignored.
  let meta: { globalStep: number; rng: [number, number, number, number]; optimizerSteps: Record<string, number> };
  try {
    meta = JSON.parse(file.metadata.session);
  } catch (e) {
    throw damaged(`session metadata is not valid JSON (${(e as Error).message})`, 'sessionMetaJson');
  }
  const modelOnly = new Map<string, RawTensor>();
  const optimizer = new Map<string, SavedSlot>();
  const snapshot = new Map<string, Float32Array>();
  const lora = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    if (name.startsWith('lora.')) {
      lora.set(name.slice('lora.'.length), t.data);
      continue;
    }
    if (name.startsWith('optimizer.m.')) {
      const p = name.slice('optimizer.m.'.length);
      const v = file.tensors.get(`optimizer.v.${p}`);
      if (!v) throw damaged(`session has optimizer.m for ${p} but no optimizer.v`, 'sessionMomentsUnpaired', { name: p });
      optimizer.set(p, { m: t.data, v: v.data, step: meta.optimizerSteps?.[p] ?? 0 });
    } else if (name.startsWith('snapshot.')) snapshot.set(name.slice('snapshot.'.length), t.data);
    else if (!name.startsWith('optimizer.v.')) modelOnly.set(name, t);
  }
  const { session: _session, lora: loraMeta, ...modelMeta } = file.metadata;
  const checkpoint = checkpointFromFile({ tensors: modelOnly, metadata: modelMeta });
  if (lora.size && !loraMeta) throw damaged('session holds LoRA adapters but not their settings ("lora" metadata)', 'sessionLoraSettings');
  let loraConfig: LoraConfig | null = null;
  if (loraMeta) {
    try {
      loraConfig = JSON.parse(loraMeta) as LoraConfig;
    } catch (e) {
      throw damaged(`session metadata "lora" is not valid JSON (${(e as Error).message})`, 'sessionLoraJson');
    }
  }
  for (const name of optimizer.keys()) {
    if (!checkpoint.params.has(name) && !lora.has(name)) throw damaged(`session state refers to unknown parameter ${name}`, 'sessionUnknownParam', { name });
  }
  for (const name of snapshot.keys()) {
    if (!checkpoint.params.has(name)) throw damaged(`session state refers to unknown parameter ${name}`, 'sessionUnknownParam', { name });
  }
  return {
    checkpoint,
    state: {
      globalStep: meta.globalStep ?? 0,
      rng: meta.rng,
      optimizer,
      snapshot: snapshot.size ? snapshot : null,
      lora: loraConfig ? { config: loraConfig, values: lora } : null,
    },
  };
}
