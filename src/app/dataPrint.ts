/**
 * What a run trained on, as a fingerprint: the corpus text for pretraining, the pairs for fine-tuning.
 * A paused run resumes only on the same data (an autosave restored without its upload, another set chosen
 * meanwhile): Resume never changes what a run trains on without saying so.
 */
import type { Pair } from '../engine/data/pairs';
import type { AppState } from '../store/store';
import type { Phase } from '../worker/protocol';

/** 64 bits of FNV-1a (two streams with different offsets) over a string's UTF-16 code units, as hex. */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return `${(a >>> 0).toString(16).padStart(8, '0')}${(b >>> 0).toString(16).padStart(8, '0')}`;
}

/** A pair list's fingerprint: prompts and responses, separated so that moving text between them counts. */
export function pairsFingerprint(pairs: Pair[]): string {
  return fingerprint(pairs.map((p) => `${p.prompt}\u0000${p.response}`).join('\u0001'));
}

/** The data a run trains on: where it came from (a dataset id, an `upload:` key, the editor) and its print. */
export interface TrainedOn {
  source: string | null;
  print: string;
}

// The last text fingerprinted, kept: Resume and autosave ask again for the same (possibly 20 MB) text.
let memo: { text: string; print: string } | null = null;

export function textFingerprint(text: string): string {
  if (memo?.text !== text) memo = { text, print: fingerprint(text) };
  return memo.print;
}

/** The data a run of `phase` would train on now: the selected corpus, or the pairs list. */
export function currentData(st: AppState, phase: Phase): TrainedOn | null {
  if (phase === 'pretrain') {
    const text = st.data.source ? st.data.uploads[st.data.source] : undefined;
    // A bundled dataset is known by its id (the build ships one text per id); an upload by its text.
    if (st.data.source === null) return null;
    return { source: st.data.source, print: text === undefined ? `dataset:${st.data.source}` : textFingerprint(text) };
  }
  if (!st.pairs.list.length) return null;
  return { source: st.pairs.source, print: pairsFingerprint(st.pairs.list) };
}
