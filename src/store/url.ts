/**
 * The experiment in the URL: model configuration, seed, data choices and training settings, so a link
 * reproduces the experiment (weights are not in the URL). A table-driven codec, as TensorFlow
 * Playground's state.ts.
 */
import { get, set, type AppState } from './store';
import type { Lang } from '../ui/i18n';

type Field = {
  key: string;
  read: (s: AppState) => string | number | boolean | null;
  write: (s: AppState, v: string) => Partial<AppState> | null;
};

const num = (v: string) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

function numField<K extends 'pretrain' | 'finetune'>(key: string, slice: K, prop: keyof AppState[K] & string): Field {
  return {
    key,
    read: (s) => s[slice][prop] as unknown as number,
    write: (s, v) => (num(v) === null ? null : ({ [slice]: { ...s[slice], [prop]: num(v) } } as Partial<AppState>)),
  };
}

function archField(key: string, prop: 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize' | 'dropout'): Field {
  return {
    key,
    read: (s) => s.model.arch[prop],
    write: (s, v) => (num(v) === null ? null : { model: { ...s.model, preset: 'custom', arch: { ...s.model.arch, [prop]: num(v) } } }),
  };
}

const FIELDS: Field[] = [
  { key: 'lang', read: (s) => s.lang, write: (_s, v) => (v === 'en' || v === 'zh' ? { lang: v as Lang } : null) },
  { key: 'backend', read: (s) => s.backend.forced, write: (s, v) => (['webgpu', 'webgl', 'wasm', 'cpu'].includes(v) ? { backend: { ...s.backend, forced: v as AppState['backend']['forced'] } } : null) },
  { key: 'data', read: (s) => (s.data.source?.startsWith('upload:') ? null : s.data.source), write: (s, v) => ({ data: { ...s.data, source: v } }) },
  { key: 'pairs', read: (s) => (s.pairs.source && !s.pairs.source.startsWith('upload:') && s.pairs.source !== 'editor' ? s.pairs.source : null), write: (s, v) => ({ pairs: { ...s.pairs, source: v } }) },
  { key: 'preset', read: (s) => s.model.preset, write: (s, v) => (['tiny', 'baby', 'small', 'custom'].includes(v) ? { model: { ...s.model, preset: v as AppState['model']['preset'] } } : null) },
  archField('layers', 'nLayer'),
  archField('heads', 'nHead'),
  archField('embd', 'nEmbd'),
  archField('block', 'blockSize'),
  archField('dropout', 'dropout'),
  { key: 'bias', read: (s) => s.model.arch.bias, write: (s, v) => ({ model: { ...s.model, arch: { ...s.model.arch, bias: v === 'true' } } }) },
  { key: 'seed', read: (s) => s.model.seed, write: (s, v) => (num(v) === null ? null : { model: { ...s.model, seed: num(v)! } }) },
  numField('steps', 'pretrain', 'steps'),
  numField('batch', 'pretrain', 'batchSize'),
  numField('lr', 'pretrain', 'lr'),
  { key: 'schedule', read: (s) => s.pretrain.schedule, write: (s, v) => (['cosine', 'constant', 'slanted'].includes(v) ? { pretrain: { ...s.pretrain, schedule: v as AppState['pretrain']['schedule'] } } : null) },
  numField('warmup', 'pretrain', 'warmupSteps'),
  numField('eval', 'pretrain', 'evalEvery'),
  numField('ftSteps', 'finetune', 'steps'),
  numField('ftLr', 'finetune', 'lr'),
  numField('ftBatch', 'finetune', 'batchSize'),
  { key: 'freeze', read: (s) => s.finetune.preset, write: (s, v) => (['none', 'embeddings', 'bottom', 'top', 'progressive', 'stages', 'custom'].includes(v) ? { finetune: { ...s.finetune, preset: v as AppState['finetune']['preset'] } } : null) },
  numField('k', 'finetune', 'k'),
  numField('every', 'finetune', 'every'),
  { key: 'disc', read: (s) => (s.finetune.useDiscriminative ? s.finetune.discriminative : null), write: (s, v) => (num(v) === null ? null : { finetune: { ...s.finetune, useDiscriminative: true, discriminative: num(v)! } }) },
];

/** The URL query for the current state. */
export function encodeState(s: AppState): string {
  const q = new URLSearchParams();
  for (const f of FIELDS) {
    const v = f.read(s);
    if (v !== null && v !== undefined && v !== '') q.set(f.key, String(v));
  }
  return q.toString();
}

/** Apply a URL query onto a state; unknown or malformed values are ignored. */
export function decodeState(s: AppState, query: string): AppState {
  const q = new URLSearchParams(query);
  let out = s;
  for (const f of FIELDS) {
    const v = q.get(f.key);
    if (v === null) continue;
    const patch = f.write(out, v);
    if (patch) out = { ...out, ...patch };
  }
  return out;
}

export function readUrl(): void {
  if (typeof location === 'undefined') return;
  set(decodeState(get(), location.search));
}

export function writeUrl(): void {
  if (typeof history === 'undefined') return;
  history.replaceState(null, '', `${location.pathname}?${encodeState(get())}${location.hash}`);
}
