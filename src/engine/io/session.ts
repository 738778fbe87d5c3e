/**
 * A resumable session: everything needed to continue training exactly where it stopped — the model
 * (nanoGPT names, as in an exported checkpoint), the optimizer's moments and step counts, the trainer's
 * step and random state, and an optional pretrained snapshot.
 *
 * Stored as one safetensors file; tensors: the model's own names, `optimizer.m.<name>`,
 * `optimizer.v.<name>`, `snapshot.<name>`. The model part is validated as a checkpoint.
 */
import type { GPT } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import type { SavedSlot } from '../train/adamw';
import type { Trainer } from '../train/trainer';
import { CheckpointError, checkpointContents, checkpointFromFile, snapshotParams, type Checkpoint, type TrainingInfo } from './checkpoint';
import { readSafetensors, writeSafetensors, type RawTensor } from './safetensors';

export interface SessionState {
  globalStep: number;
  rng: [number, number, number, number];
  optimizer: Map<string, SavedSlot>;
  snapshot: Map<string, Float32Array> | null;
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
  for (const [name, slot] of await trainer.optimizer.save()) {
    const shape = model.params.get(name)!.shape;
    tensors.set(`optimizer.m.${name}`, { shape, data: slot.m });
    tensors.set(`optimizer.v.${name}`, { shape, data: slot.v });
    steps[name] = slot.step;
  }
  if (snapshot) for (const [name, data] of snapshot) tensors.set(`snapshot.${name}`, { shape: model.params.get(name)!.shape, data });
  return writeSafetensors(tensors, {
    ...base.metadata,
    session: JSON.stringify({ globalStep: trainer.globalStep, rng: trainer.rngState, optimizerSteps: steps }),
  });
}

export function readSession(bytes: Uint8Array): { checkpoint: Checkpoint; state: SessionState } {
  const file = readSafetensors(bytes);
  if (!file.metadata.session) throw new CheckpointError('this file is a model, not a saved session (no "session" metadata)');
  // Older sessions also hold `extra` (always {}, nothing wrote more): it parses and is ignored.
  let meta: { globalStep: number; rng: [number, number, number, number]; optimizerSteps: Record<string, number> };
  try {
    meta = JSON.parse(file.metadata.session);
  } catch (e) {
    throw new CheckpointError(`session metadata is not valid JSON (${(e as Error).message})`);
  }
  const modelOnly = new Map<string, RawTensor>();
  const optimizer = new Map<string, SavedSlot>();
  const snapshot = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    if (name.startsWith('optimizer.m.')) {
      const p = name.slice('optimizer.m.'.length);
      const v = file.tensors.get(`optimizer.v.${p}`);
      if (!v) throw new CheckpointError(`session has optimizer.m for ${p} but no optimizer.v`);
      optimizer.set(p, { m: t.data, v: v.data, step: meta.optimizerSteps?.[p] ?? 0 });
    } else if (name.startsWith('snapshot.')) snapshot.set(name.slice('snapshot.'.length), t.data);
    else if (!name.startsWith('optimizer.v.')) modelOnly.set(name, t);
  }
  const { session: _session, ...modelMeta } = file.metadata;
  const checkpoint = checkpointFromFile({ tensors: modelOnly, metadata: modelMeta });
  for (const name of [...optimizer.keys(), ...snapshot.keys()]) {
    if (!checkpoint.params.has(name)) throw new CheckpointError(`session state refers to unknown parameter ${name}`);
  }
  return {
    checkpoint,
    state: { globalStep: meta.globalStep ?? 0, rng: meta.rng, optimizer, snapshot: snapshot.size ? snapshot : null },
  };
}
