/**
 * The experiment in the URL: model configuration, seed, data choices and training settings, so a link
 * reproduces the experiment (weights are not in the URL). A table-driven codec, as TensorFlow
 * Playground's state.ts.
 */
import { get, set, type AppState, type FreezePreset, type ViewMode } from './store';
import { ARCH_LIMITS, isDropout, isPresetName, presetOf, PRESETS, type ArchConfig } from '../engine/model/config';
import { allowed, LIMITS, type Limit, type SettingName } from '../engine/train/limits';
import type { ScheduleKind } from '../engine/train/schedule';
import { BACKENDS, MAX_WASM_THREADS } from '../worker/protocol';
import { LANGS } from './lang';
import { MAX_VOCAB, MIN_VOCAB } from '../engine/tokenizer/bpeTrain';

type Field = {
  key: string;
  read: (s: AppState) => string | number | boolean | null;
  write: (s: AppState, v: string) => Partial<AppState> | null;
};

const num = (v: string) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

/** A number the setting's one validation (engine/train/limits.ts) allows — as the form and the CLI — else null. */
const valid = (v: string, limit: Limit) => {
  const n = num(v);
  return n !== null && allowed(limit, n) ? n : null;
};

function numField<K extends 'pretrain' | 'finetune'>(key: string, slice: K, prop: keyof AppState[K] & string, setting: SettingName): Field {
  return {
    key,
    read: (s) => s[slice][prop] as unknown as number,
    write: (s, v) => {
      const n = valid(v, LIMITS[setting]);
      return n === null ? null : ({ [slice]: { ...s[slice], [prop]: n } } as Partial<AppState>);
    },
  };
}

/** The keys of a record that must name every member of a union: the compiler checks the list is complete. */
const keysOf = <K extends string>(all: Record<K, true>) => Object.keys(all) as K[];

const SCHEDULES = keysOf<ScheduleKind>({ cosine: true, constant: true, slanted: true });
const FREEZE_PRESETS = keysOf<FreezePreset>({
  none: true,
  embeddings: true,
  bottom: true,
  top: true,
  progressive: true,
  stages: true,
  custom: true,
  lora: true,
});

const oneOf = <T extends string>(list: readonly T[], v: string): v is T => (list as readonly string[]).includes(v);

/**
 * A preset name builds that preset's architecture, as picking it in the model panel does. 'custom' changes
 * nothing by itself: the fields after it set the numbers, and presetOf names them (one rule, the panel's).
 */
function writePreset(s: AppState, v: string): Partial<AppState> | null {
  if (v === 'custom') return { model: { ...s.model, preset: presetOf(s.model.arch) } };
  return isPresetName(v) ? { model: { ...s.model, preset: v, arch: { ...PRESETS[v] } } } : null;
}

/**
 * Change architecture fields. The preset is named by the numbers (presetOf, the rule the model panel uses
 * too), so a shared link (which spells out every field) comes back as 'baby', not 'custom'.
 */
function withArch(s: AppState, patch: Partial<ArchConfig>): Partial<AppState> {
  const arch = { ...s.model.arch, ...patch };
  return { model: { ...s.model, preset: presetOf(arch), arch } };
}

function archField(key: string, prop: 'nLayer' | 'nHead' | 'nEmbd' | 'blockSize' | 'dropout'): Field {
  return {
    key,
    read: (s) => s.model.arch[prop],
    write: (s, v) => {
      const n = prop === 'dropout' ? num(v) : valid(v, { int: true, ...ARCH_LIMITS[prop] });
      return n === null || (prop === 'dropout' && !isDropout(n)) ? null : withArch(s, { [prop]: n });
    },
  };
}

/** A BPE vocabulary size a link may ask for (the engine's MIN_VOCAB … MAX_VOCAB). */
const isVocabSize = (n: number | null): n is number => n !== null && Number.isInteger(n) && n >= MIN_VOCAB && n <= MAX_VOCAB;

/** Applied in this order whatever the query's order: 'preset' comes before the fields that override it. */
const FIELDS: Field[] = [
  // The view: ?mode=lesson|lab, and ?present=1 for the presentation (after mode, so it wins).
  {
    key: 'mode',
    read: (s) => (s.view.mode === 'present' ? null : s.view.mode),
    write: (s, v) => (v === 'lesson' || v === 'lab' ? { view: { ...s.view, mode: v } } : null),
  },
  {
    key: 'step',
    read: (s) => (s.view.mode === 'lesson' && s.view.step > 0 ? s.view.step + 1 : null),
    write: (s, v) => (num(v) !== null && num(v)! >= 1 && num(v)! <= 5 ? { view: { ...s.view, step: Math.floor(num(v)!) - 1 } } : null),
  },
  { key: 'present', read: (s) => (s.view.mode === 'present' ? 1 : null), write: (s, v) => (v === '1' ? { view: { ...s.view, mode: 'present' } } : null) },
  { key: 'lang', read: (s) => s.lang, write: (_s, v) => (oneOf(LANGS, v) ? { lang: v } : null) },
  { key: 'backend', read: (s) => s.backend.forced, write: (s, v) => (oneOf(BACKENDS, v) ? { backend: { ...s.backend, forced: v } } : null) },
  {
    // WebAssembly's threads: 1 to compare with one thread in the same page, fewer to leave cores free (read as the worker starts).
    key: 'threads',
    read: (s) => s.backend.threads,
    write: (s, v) => {
      const n = num(v);
      return n !== null && Number.isInteger(n) && n >= 1 && n <= MAX_WASM_THREADS ? { backend: { ...s.backend, threads: n } } : null;
    },
  },
  { key: 'data', read: (s) => (s.data.source?.startsWith('upload:') ? null : s.data.source), write: (s, v) => ({ data: { ...s.data, source: v } }) },
  {
    key: 'pairs',
    read: (s) => (s.pairs.source && !s.pairs.source.startsWith('upload:') && s.pairs.source !== 'editor' ? s.pairs.source : null),
    write: (s, v) => ({ pairs: { ...s.pairs, source: v } }),
  },
  { key: 'preset', read: (s) => s.model.preset, write: writePreset },
  archField('layers', 'nLayer'),
  archField('heads', 'nHead'),
  archField('embd', 'nEmbd'),
  archField('block', 'blockSize'),
  archField('dropout', 'dropout'),
  { key: 'bias', read: (s) => s.model.arch.bias, write: (s, v) => (v === 'true' || v === 'false' ? withArch(s, { bias: v === 'true' }) : null) },
  { key: 'tok', read: (s) => s.tokenizer.kind, write: (s, v) => (v === 'char' || v === 'bpe' ? { tokenizer: { ...s.tokenizer, kind: v } } : null) },
  {
    key: 'vocab',
    read: (s) => (s.tokenizer.kind === 'bpe' ? s.tokenizer.vocabSize : null),
    write: (s, v) => (isVocabSize(num(v)) ? { tokenizer: { ...s.tokenizer, vocabSize: num(v) } } : null),
  },
  {
    key: 'seed',
    read: (s) => s.model.seed,
    write: (s, v) => (valid(v, LIMITS.seed) === null ? null : { model: { ...s.model, seed: valid(v, LIMITS.seed)! } }),
  },
  numField('steps', 'pretrain', 'steps', 'steps'),
  numField('batch', 'pretrain', 'batchSize', 'batch'),
  numField('lr', 'pretrain', 'lr', 'lr'),
  { key: 'schedule', read: (s) => s.pretrain.schedule, write: (s, v) => (oneOf(SCHEDULES, v) ? { pretrain: { ...s.pretrain, schedule: v } } : null) },
  numField('warmup', 'pretrain', 'warmupSteps', 'warmup'),
  numField('eval', 'pretrain', 'evalEvery', 'evalEvery'),
  numField('ftSteps', 'finetune', 'steps', 'steps'),
  numField('ftLr', 'finetune', 'lr', 'lr'),
  numField('ftBatch', 'finetune', 'batchSize', 'batch'),
  { key: 'freeze', read: (s) => s.finetune.preset, write: (s, v) => (oneOf(FREEZE_PRESETS, v) ? { finetune: { ...s.finetune, preset: v } } : null) },
  numField('k', 'finetune', 'k', 'k'),
  numField('every', 'finetune', 'every', 'every'),
  numField('loraRank', 'finetune', 'loraRank', 'loraRank'),
  numField('loraAlpha', 'finetune', 'loraAlpha', 'loraAlpha'),
  {
    key: 'loraTargets',
    read: (s) => s.finetune.loraTargets,
    write: (s, v) => (v === 'attn' || v === 'attn,mlp' ? { finetune: { ...s.finetune, loraTargets: v } } : null),
  },
  {
    key: 'disc',
    read: (s) => (s.finetune.useDiscriminative ? s.finetune.discriminative : null),
    write: (s, v) => (valid(v, LIMITS.discriminative) === null ? null : { finetune: { ...s.finetune, useDiscriminative: true, discriminative: Number(v) } }),
  },
];

/**
 * The view a URL opens when it names none: for a bare address (or one naming only the language) the lesson
 * on a first visit, else the lesson or lab last chosen; the lab for a link that sets up an experiment (a
 * backend, a preset, training settings…).
 */
export function defaultMode(query: string, remembered: ViewMode | null = null): ViewMode {
  const keys = [...new URLSearchParams(query).keys()];
  return keys.every((k) => k === 'lang') ? (remembered === 'lab' ? 'lab' : 'lesson') : 'lab';
}

/** Where the last choice of lesson or lab is kept, for the next visit to the bare address. */
export const VIEW_KEY = 'small-gpt-view';

function rememberedMode(): ViewMode | null {
  try {
    const v = localStorage.getItem(VIEW_KEY);
    return v === 'lesson' || v === 'lab' ? v : null;
  } catch {
    return null;
  }
}

/** The URL query for the current state. */
export function encodeState(s: AppState): string {
  const q = new URLSearchParams();
  for (const f of FIELDS) {
    const v = f.read(s);
    if (v !== null && v !== undefined && v !== '') q.set(f.key, String(v));
  }
  return q.toString();
}

/** Apply a URL query onto a state; malformed or out-of-range values are ignored (listed by `ignored`). */
export function decodeState(s: AppState, query: string): AppState {
  return decodeQuery(s, query).state;
}

/** The state a query gives, and its `key=value` parts that were ignored (unknown keys, refused values). */
export function decodeQuery(s: AppState, query: string): { state: AppState; ignored: string[] } {
  const q = new URLSearchParams(query);
  let out = s;
  const ignored: string[] = [];
  for (const f of FIELDS) {
    const v = q.get(f.key);
    if (v === null) continue;
    const patch = f.write(out, v);
    if (patch) out = { ...out, ...patch };
    else ignored.push(`${f.key}=${v}`);
  }
  const known = new Set(FIELDS.map((f) => f.key));
  for (const [k, v] of q) if (!known.has(k)) ignored.push(v === '' ? k : `${k}=${v}`);
  return { state: out, ignored };
}

/** Apply the page's URL; what it ignored is said (in the page's language) rather than dropped without a word. */
export function readUrl(): void {
  if (typeof location === 'undefined') return;
  const st = get();
  const { state, ignored } = decodeQuery({ ...st, view: { ...st.view, mode: defaultMode(location.search, rememberedMode()) } }, location.search);
  set(ignored.length ? { ...state, notice: { kind: 'error', text: { key: 'url.ignored', params: { parts: ignored.join(', ') } } } } : state);
}

export function writeUrl(): void {
  if (typeof history === 'undefined') return;
  history.replaceState(null, '', `${location.pathname}?${encodeState(get())}${location.hash}`);
}
