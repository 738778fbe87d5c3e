/**
 * Dialogue pairs: parsing (JSONL, JSON array, CSV, TSV), the template that turns a pair into text, the
 * loss mask over the response, and batches.
 *
 * Template: prompt + separator + response + end. With the default separator '\n' and end '\n\n', a pair
 * reads like a paragraph of the pretraining text followed by its reply, and only characters the corpus
 * already taught the model are used (see tokenizer/char.ts for why there are no new special tokens). Under
 * BPE a newline is never merged with its neighbours (tokenizer/pretokenize.ts), so the template is the same
 * tokens under both tokenizers.
 */
import Papa from 'papaparse';
import type { Tokenizer } from '../tokenizer/types';
import type { Rng } from '../random';
import { checkText, DataError, normalizeText, type Batch } from './corpus';

export interface Pair {
  prompt: string;
  response: string;
}

export interface PairProblem {
  /** 1-based line number in the source text. */
  line: number;
  message: string;
}

export interface ParsedPairs {
  pairs: Pair[];
  /** Lines that could not be read; nothing is dropped silently. */
  problems: PairProblem[];
  format: PairFormat;
}

export type PairFormat = 'jsonl' | 'json' | 'csv' | 'tsv';

const PROMPT_KEYS = ['prompt', 'instruction', 'question', 'input'];
const RESPONSE_KEYS = ['response', 'output', 'answer', 'completion'];

/** Guess the format from a file name, else from the content. */
export function detectFormat(text: string, fileName?: string): PairFormat {
  const ext = fileName?.toLowerCase().match(/\.(jsonl|ndjson|json|csv|tsv)$/)?.[1];
  if (ext === 'ndjson') return 'jsonl';
  if (ext) return ext as PairFormat;
  const head = text.trimStart();
  if (head.startsWith('[')) return 'json';
  if (head.startsWith('{')) return 'jsonl';
  const firstLine = head.split('\n', 1)[0];
  return firstLine.includes('\t') ? 'tsv' : 'csv';
}

function pick(obj: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (k in obj) return obj[k];
  return undefined;
}

function fromObject(obj: unknown): Pair | string {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'expected an object like {"prompt": …, "response": …}';
  const o = obj as Record<string, unknown>;
  const prompt = pick(o, PROMPT_KEYS);
  const response = pick(o, RESPONSE_KEYS);
  if (prompt === undefined) return `no prompt field (one of ${PROMPT_KEYS.join(', ')}); keys present: ${Object.keys(o).join(', ') || 'none'}`;
  if (response === undefined) return `no response field (one of ${RESPONSE_KEYS.join(', ')}); keys present: ${Object.keys(o).join(', ')}`;
  if (typeof prompt !== 'string') return 'prompt must be a string';
  if (typeof response !== 'string') return 'response must be a string';
  return checkPair({ prompt, response });
}

/**
 * A pair the template can carry, or why not: an empty prompt or response teaches nothing, and a prompt with
 * a blank line in it holds the end marker (DEFAULT_TEMPLATE.end), so the model would read the pair as two
 * turns and learn to stop in the middle of a question.
 */
function checkPair(pair: Pair): Pair | string {
  if (pair.prompt.trim() === '') return 'prompt is empty';
  if (pair.response.trim() === '') return 'response is empty';
  if (normalizeText(pair.prompt).includes('\n\n')) return 'prompt contains a blank line, which marks the end of a turn: remove it or join the lines';
  return pair;
}

function parseJsonl(text: string): ParsedPairs {
  const pairs: Pair[] = [];
  const problems: PairProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      problems.push({ line: i + 1, message: `not valid JSON (${(e as Error).message})` });
      return;
    }
    const r = fromObject(obj);
    if (typeof r === 'string') problems.push({ line: i + 1, message: r });
    else pairs.push(r);
  });
  return { pairs, problems, format: 'jsonl' };
}

function parseJsonArray(text: string): ParsedPairs {
  let arr: unknown;
  try {
    arr = JSON.parse(text);
  } catch (e) {
    return { pairs: [], problems: [{ line: 1, message: `not valid JSON (${(e as Error).message})` }], format: 'json' };
  }
  if (!Array.isArray(arr)) return { pairs: [], problems: [{ line: 1, message: 'expected a JSON array of pairs' }], format: 'json' };
  const pairs: Pair[] = [];
  const problems: PairProblem[] = [];
  arr.forEach((obj, i) => {
    const r = fromObject(obj);
    // A JSON array has no useful line per element: report the element number instead.
    if (typeof r === 'string') problems.push({ line: i + 1, message: `element ${i + 1}: ${r}` });
    else pairs.push(r);
  });
  return { pairs, problems, format: 'json' };
}

function parseDelimited(text: string, format: 'csv' | 'tsv'): ParsedPairs {
  const pairs: Pair[] = [];
  const problems: PairProblem[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let rowStart = 0;
  let columns: [number, number] | null = null;
  let first = true;
  Papa.parse<string[]>(text, {
    delimiter: format === 'tsv' ? '\t' : ',',
    skipEmptyLines: false,
    step: (res) => {
      const line = lineAt(rowStart);
      rowStart = res.meta.cursor;
      // Papa's cursor sits on the line break; the next row starts after it.
      while (rowStart < text.length && (text[rowStart] === '\n' || text[rowStart] === '\r')) rowStart++;
      const row = res.data;
      if (row.length === 1 && row[0].trim() === '') return;
      if (first) {
        first = false;
        const lower = row.map((c) => c.trim().toLowerCase());
        const p = lower.findIndex((c) => PROMPT_KEYS.includes(c));
        const r = lower.findIndex((c) => RESPONSE_KEYS.includes(c));
        if (p >= 0 && r >= 0) {
          columns = [p, r];
          return;
        }
        columns = [0, 1];
      }
      for (const err of res.errors) problems.push({ line, message: err.message });
      if (res.errors.length) return;
      const [pi, ri] = columns!;
      if (row.length <= Math.max(pi, ri)) {
        problems.push({ line, message: `expected at least ${Math.max(pi, ri) + 1} columns (prompt, response), found ${row.length}` });
        return;
      }
      const pair = checkPair({ prompt: row[pi], response: row[ri] });
      if (typeof pair === 'string') problems.push({ line, message: pair });
      else pairs.push(pair);
    },
  });
  return { pairs, problems, format };
}

/**
 * Parse pairs; problems list every unreadable line by number. Throws on input that is not text (empty, or
 * binary: CSV parsing reads almost any bytes as rows, so a binary file would otherwise pass as pairs).
 */
export function parsePairs(raw: string, fileName?: string, format = detectFormat(raw, fileName)): ParsedPairs {
  const text = normalizeText(raw);
  checkText(text, fileName ?? 'the pairs file');
  switch (format) {
    case 'jsonl':
      return parseJsonl(text);
    case 'json':
      return parseJsonArray(text);
    case 'csv':
    case 'tsv':
      return parseDelimited(text, format);
  }
}

/** Each line's distinct messages, lines in first-seen order: a CSV row can carry several parser errors. */
function messagesByLine(problems: PairProblem[]): Map<number, string[]> {
  const byLine = new Map<number, string[]>();
  for (const p of problems) {
    const messages = byLine.get(p.line) ?? [];
    if (!messages.includes(p.message)) messages.push(p.message);
    byLine.set(p.line, messages);
  }
  return byLine;
}

/** Formats problems for an error message, naming each line once and listing the first few lines. */
export function describeProblems(problems: PairProblem[], limit = 5): string {
  const lines = [...messagesByLine(problems)];
  const shown = lines.slice(0, limit).map(([line, messages]) => `line ${line}: ${messages.join(' and ')}`);
  const more = lines.length > limit ? `; and ${lines.length - limit} more` : '';
  return `${lines.length} unreadable line${lines.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`;
}

/** Parse and insist that every line is good (the CLI's policy). */
export function parsePairsStrict(text: string, fileName?: string): Pair[] {
  const { pairs, problems } = parsePairs(text, fileName);
  if (problems.length) throw new DataError(`${fileName ?? 'pairs'}: ${describeProblems(problems)}`);
  if (pairs.length === 0) throw new DataError(`${fileName ?? 'pairs'}: no pairs found`);
  return pairs;
}

export interface DialogueTemplate {
  /** Between prompt and response. */
  separator: string;
  /** After the response; sampling stops when the model writes it. */
  end: string;
}

export const DEFAULT_TEMPLATE: DialogueTemplate = { separator: '\n', end: '\n\n' };

/** The text a pair becomes; `responseStart` is the code-point index where the counted part begins. */
export function renderPair(pair: Pair, t: DialogueTemplate = DEFAULT_TEMPLATE): { text: string; responseStart: number } {
  const head = pair.prompt + t.separator;
  return { text: head + pair.response + t.end, responseStart: [...head].length };
}

/** What a prompt becomes at chat time: the model continues after the separator. */
export function renderPrompt(prompt: string, t: DialogueTemplate = DEFAULT_TEMPLATE): string {
  return prompt + t.separator;
}

export interface EncodedPair {
  /** Token ids, at most blockSize + 1 of them. */
  ids: Int32Array;
  /** Loss weight per target position (ids.length − 1): 1 on response and end-marker targets. */
  mask: Float32Array;
  truncated: boolean;
}

/** Check that the template is made of characters that are each a token of their own (trained rows). */
export function checkTemplate(tok: Tokenizer, t: DialogueTemplate): void {
  for (const ch of t.separator + t.end) {
    if (!tok.has(ch)) throw new DataError(`the dialogue template uses ${JSON.stringify(ch)}, which is not a token of its own in the model's vocabulary`);
  }
}

/**
 * Encode a pair into ≤ blockSize + 1 ids with its loss mask. Too long: the prompt keeps its end (at
 * least half the window if it needs it), the response keeps its beginning.
 */
export function encodePair(tok: Tokenizer, pair: Pair, blockSize: number, t: DialogueTemplate = DEFAULT_TEMPLATE, responseOnly = true): EncodedPair {
  const prompt = tok.encode(pair.prompt).ids;
  const reply = tok.encode(t.separator + pair.response + t.end).ids;
  const budget = blockSize + 1;
  let p = prompt;
  let r = reply;
  const truncated = p.length + r.length > budget;
  if (truncated) {
    const promptKeep = Math.min(p.length, Math.max(budget - r.length, Math.floor(budget / 2)));
    p = p.subarray(p.length - promptKeep);
    r = r.subarray(0, budget - promptKeep);
  }
  const ids = new Int32Array(p.length + r.length);
  ids.set(p, 0);
  ids.set(r, p.length);
  // Target at position i is ids[i+1]. The separator is part of the prompt side: the first counted target is
  // the first response token, which sits at ids index promptLen + sepLen (the separator's characters are
  // each a token of their own: checkTemplate).
  const sepLen = Math.min(tok.encode(t.separator).ids.length, r.length);
  const firstCounted = p.length + sepLen;
  const mask = new Float32Array(Math.max(ids.length - 1, 0));
  // responseOnly = false: every target counts (the prompt is learned too), as plain language modelling.
  for (let i = 0; i < mask.length; i++) mask[i] = !responseOnly || i + 1 >= firstCounted ? 1 : 0;
  return { ids, mask, truncated };
}

export interface PairSet {
  examples: EncodedPair[];
  truncatedCount: number;
  /** Characters outside the vocabulary across all pairs, with counts. */
  unknownChars: [string, number][];
}

export function encodePairs(tok: Tokenizer, pairs: Pair[], blockSize: number, t: DialogueTemplate = DEFAULT_TEMPLATE, responseOnly = true): PairSet {
  const unknown = new Map<string, number>();
  const examples = pairs.map((pair) => {
    for (const [ch, n] of tok.encode(pair.prompt + pair.response).unknownChars) unknown.set(ch, (unknown.get(ch) ?? 0) + n);
    return encodePair(tok, pair, blockSize, t, responseOnly);
  });
  return {
    examples,
    truncatedCount: examples.filter((e) => e.truncated).length,
    unknownChars: [...unknown.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/** Deterministic held-out split: every pair is assigned by a seeded shuffle. */
export function splitPairs<T>(items: T[], valFraction: number, rng: Rng): { train: T[]; val: T[] } {
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nVal = items.length > 1 ? Math.max(1, Math.round(items.length * valFraction)) : 0;
  return { val: order.slice(0, nVal).map((i) => items[i]), train: order.slice(nVal).map((i) => items[i]) };
}

/**
 * A batch of pairs, one per row, padded on the right (padding is masked out, and causal attention keeps it
 * from touching earlier positions). T is the longest example in the batch, so short pairs train fast.
 */
export function pairBatch(examples: EncodedPair[], rows: number[]): Batch {
  if (examples.length === 0) throw new DataError('no pairs to train on');
  const T = Math.max(1, ...rows.map((r) => examples[r].ids.length - 1));
  const B = rows.length;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const w = new Float32Array(B * T);
  rows.forEach((r, b) => {
    const e = examples[r];
    const n = e.ids.length - 1;
    x.set(e.ids.subarray(0, n), b * T);
    y.set(e.ids.subarray(1), b * T);
    w.set(e.mask, b * T);
  });
  return { x, y, w, batchSize: B, blockSize: T };
}

export function samplePairBatch(examples: EncodedPair[], batchSize: number, rng: Rng): Batch {
  if (examples.length === 0) throw new DataError('no pairs to train on');
  return pairBatch(examples, Array.from({ length: batchSize }, () => rng.int(examples.length)));
}
