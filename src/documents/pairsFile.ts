/**
 * A pairs file as the user uploads it (JSONL, a JSON array, CSV or TSV) read into dialogue pairs, every
 * line that cannot be read reported by its number: nothing is dropped silently. The page's uploads and the
 * CLI's --pairs read files through here; the engine only ever sees the pairs (engine/data/pairs.ts).
 */
import Papa from 'papaparse';
import { checkText, DataError, normalizeText } from '../engine/data/corpus';
import type { Pair } from '../engine/data/pairs';
import { msg, type Message } from '../i18n/i18n';

/** Why a line gives no pair: a code (the dictionary's `pairProblem.<code>`), its values, and the English words. */
export const PAIR_PROBLEM_CODES = [
  'notJson',
  'notArray',
  'notObject',
  'noPrompt',
  'noResponse',
  'promptNotText',
  'responseNotText',
  'promptEmpty',
  'responseEmpty',
  'promptBlankLine',
  'columns',
  'csvQuotes',
  'csvFields',
] as const;

export type PairProblemCode = (typeof PAIR_PROBLEM_CODES)[number];

export interface Problem {
  code: PairProblemCode;
  params: Record<string, string | number>;
  /** In English: what the CLI prints, and the fallback. */
  message: string;
}

export interface PairProblem extends Problem {
  /** 1-based line number in the source text (a JSON array's element number). */
  line: number;
  /** `line` counts the elements of a JSON array. */
  element?: true;
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

const problem = (code: PairProblemCode, message: string, params: Problem['params'] = {}): Problem => ({ code, params, message });
const isProblem = (r: Pair | Problem): r is Problem => 'code' in r;

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

function fromObject(obj: unknown): Pair | Problem {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return problem('notObject', 'expected an object like {"prompt": …, "response": …}');
  const o = obj as Record<string, unknown>;
  const prompt = pick(o, PROMPT_KEYS);
  const response = pick(o, RESPONSE_KEYS);
  const present = Object.keys(o).join(', ') || '—';
  if (prompt === undefined)
    return problem('noPrompt', `no prompt field (one of ${PROMPT_KEYS.join(', ')}); keys present: ${Object.keys(o).join(', ') || 'none'}`, {
      keys: PROMPT_KEYS.join(', '),
      present,
    });
  if (response === undefined)
    return problem('noResponse', `no response field (one of ${RESPONSE_KEYS.join(', ')}); keys present: ${Object.keys(o).join(', ')}`, {
      keys: RESPONSE_KEYS.join(', '),
      present,
    });
  if (typeof prompt !== 'string') return problem('promptNotText', 'prompt must be a string');
  if (typeof response !== 'string') return problem('responseNotText', 'response must be a string');
  return checkPair({ prompt, response });
}

/**
 * A pair the template can carry, or why not: an empty prompt or response teaches nothing, and a prompt with
 * a blank line in it holds the end marker (DEFAULT_TEMPLATE.end), so the model would read the pair as two
 * turns and learn to stop in the middle of a question.
 */
function checkPair(pair: Pair): Pair | Problem {
  if (pair.prompt.trim() === '') return problem('promptEmpty', 'prompt is empty');
  if (pair.response.trim() === '') return problem('responseEmpty', 'response is empty');
  if (normalizeText(pair.prompt).includes('\n\n'))
    return problem('promptBlankLine', 'prompt contains a blank line, which marks the end of a turn: remove it or join the lines');
  return pair;
}

/**
 * A line (or a whole .json file) JSON.parse refused. The page shows the start of the text itself, which reads the same
 * in any language; the parser's own explanation, in English whatever the page's language, stays in the message.
 */
const notJson = (e: unknown, text: string) => {
  const flat = text.trim().replace(/\s+/g, ' ');
  return problem('notJson', `not valid JSON (${(e as Error).message})`, { detail: flat.length > 40 ? `${flat.slice(0, 40)}…` : flat });
};

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
      problems.push({ line: i + 1, ...notJson(e, line) });
      return;
    }
    const r = fromObject(obj);
    if (isProblem(r)) problems.push({ line: i + 1, ...r });
    else pairs.push(r);
  });
  return { pairs, problems, format: 'jsonl' };
}

function parseJsonArray(text: string): ParsedPairs {
  let arr: unknown;
  try {
    arr = JSON.parse(text);
  } catch (e) {
    return { pairs: [], problems: [{ line: 1, ...notJson(e, text) }], format: 'json' };
  }
  if (!Array.isArray(arr)) return { pairs: [], problems: [{ line: 1, ...problem('notArray', 'expected a JSON array of pairs') }], format: 'json' };
  const pairs: Pair[] = [];
  const problems: PairProblem[] = [];
  arr.forEach((obj, i) => {
    const r = fromObject(obj);
    // A JSON array has no useful line per element: report the element number instead.
    if (isProblem(r)) problems.push({ line: i + 1, element: true, ...r, message: `element ${i + 1}: ${r.message}` });
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
      // Papa's own words in English; its code says which kind (quotes, or the number of fields) for the page.
      for (const err of res.errors) problems.push({ line, ...problem(err.type === 'Quotes' ? 'csvQuotes' : 'csvFields', err.message) });
      if (res.errors.length) return;
      const [pi, ri] = columns!;
      if (row.length <= Math.max(pi, ri)) {
        const need = Math.max(pi, ri) + 1;
        problems.push({
          line,
          ...problem('columns', `expected at least ${need} columns (prompt, response), found ${row.length}`, { need, found: row.length }),
        });
        return;
      }
      const pair = checkPair({ prompt: row[pi], response: row[ri] });
      if (isProblem(pair)) problems.push({ line, ...pair });
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

/**
 * The problems as the page says them, in its language: the first few lines (each once, each distinct problem
 * once), then how many more.
 */
export function problemsMessage(problems: PairProblem[], limit = 5): Message {
  const byLine = new Map<number, PairProblem[]>();
  for (const p of problems) {
    const seen = byLine.get(p.line) ?? [];
    if (!seen.some((q) => q.code === p.code && JSON.stringify(q.params) === JSON.stringify(p.params))) seen.push(p);
    byLine.set(p.line, seen);
  }
  const lines = [...byLine.values()];
  const said = lines
    .slice(0, limit)
    .flatMap((ps) =>
      ps.map((p) => msg(p.element ? 'pairs.problemElement' : 'pairs.problemLine', { line: p.line, problem: msg(`pairProblem.${p.code}`, p.params) })),
    );
  if (lines.length === 1) return msg('pairs.unreadableOne', { lines: said });
  return lines.length > limit
    ? msg('pairs.unreadableMore', { n: lines.length, lines: said, more: lines.length - limit })
    : msg('pairs.unreadable', { n: lines.length, lines: said });
}

/** Parse and insist that every line is good (the CLI's policy). */
export function parsePairsStrict(text: string, fileName?: string): Pair[] {
  const { pairs, problems } = parsePairs(text, fileName);
  if (problems.length) throw new DataError(`${fileName ?? 'pairs'}: ${describeProblems(problems)}`);
  if (pairs.length === 0) throw new DataError(`${fileName ?? 'pairs'}: no pairs found`);
  return pairs;
}
