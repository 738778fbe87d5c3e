import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDatasets, loadBlocklist, normaliseEnglish, regularLines } from '../scripts/build-datasets';
import type { DatasetManifest } from '../src/datasets/manifest';
import { parsePairs } from '../src/engine/data/pairs';
import { CharTokenizer } from '../src/engine/tokenizer/char';

let dir: string;
let manifest: DatasetManifest;
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const entry = (id: string) => manifest.datasets.find((d) => d.id === id)!;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasets-'));
  manifest = buildDatasets(dir, true).manifest;
});

describe('dataset build step', () => {
  it('is deterministic: a second build gives byte-identical files', () => {
    const again = mkdtempSync(join(tmpdir(), 'datasets-'));
    buildDatasets(again, true);
    const files = readdirSync(dir).sort();
    expect(readdirSync(again).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(again, f)).equals(readFileSync(join(dir, f))), f).toBe(true);
  });

  it('skips when up to date and rebuilds when forced', () => {
    expect(buildDatasets(dir).skipped).toBe(true);
    expect(buildDatasets(dir, true).skipped).toBe(false);
  });

  it('ships English and Chinese corpora and pairs, each with a quick subset', () => {
    const ids = manifest.datasets.map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining(['moby-dick', 'moby-dick-quick', 'sailor', 'sailor-quick', 'tang-jueju', 'tang-jueju-quick', 'tang-lvshi', 'couplets', 'couplets-quick', 'xiehouyu', 'xiehouyu-quick']));
    for (const d of manifest.datasets) {
      expect(d.title.en && d.title.zh && d.license && d.source && d.attribution, d.id).toBeTruthy();
      if (d.kind === 'pairs') expect(manifest.datasets.some((c) => c.id === d.corpus && c.kind === 'corpus'), d.id).toBe(true);
    }
  });

  it('has a manifest that matches the files', () => {
    for (const d of manifest.datasets) {
      const text = read(d.file);
      if (d.kind === 'corpus') {
        expect([...text].length, d.id).toBe(d.chars);
        expect(new Set(text).size, d.id).toBe(d.distinctChars);
      } else {
        const { pairs, problems } = parsePairs(text, d.file);
        expect(problems, d.id).toEqual([]);
        expect(pairs.length, d.id).toBe(d.pairs);
        const all = pairs.map((p) => p.prompt + p.response).join('');
        expect([...all].length, d.id).toBe(d.chars);
        expect(new Set(all).size, d.id).toBe(d.distinctChars);
      }
    }
  });

  it('keeps Moby-Dick to a small ASCII vocabulary and the Tang corpus to regular quatrains', () => {
    const moby = read('moby-dick.txt');
    expect(entry('moby-dick').distinctChars).toBeLessThanOrEqual(82);
    expect(/^[\n\x20-\x7e]*$/.test(moby)).toBe(true);
    expect(moby).toContain('Call me Ishmael. Some years ago--never mind how long precisely--');
    expect(normaliseEnglish('a\u2014b \u2018c\u2019 \u00c6\u0152 \u03b7')).toBe("a--b 'c' OE ");
    const poems = read('tang-jueju.txt').trim().split('\n\n');
    expect(poems.length).toBeGreaterThan(13_000);
    for (const poem of poems.slice(0, 2000)) {
      const lines = poem.split('\n');
      expect(lines).toHaveLength(4);
      expect(regularLines([lines.join('')])).not.toBeNull();
    }
    expect(entry('tang-jueju').distinctChars).toBeGreaterThan(4500);
    // Simplified, not Traditional: common traditional forms are gone
    expect(/[們說東風來時國書]/.test(read('tang-jueju.txt'))).toBe(false);
  });

  it('pairs use the characters of their corpus, or are counted as unknown', () => {
    for (const d of manifest.datasets.filter((x) => x.kind === 'pairs')) {
      const tok = CharTokenizer.fromText(read(entry(d.corpus!).file));
      const { pairs } = parsePairs(read(d.file), d.file);
      const enc = tok.encode(pairs.map((p) => p.prompt + p.response).join(''));
      const rate = enc.unknownCount / enc.ids.length;
      if (d.id.startsWith('couplets') || d.id.startsWith('sailor')) expect(rate, d.id).toBeLessThan(0.01);
      // 歇后语 are modern Chinese, the corpus is Tang verse: coverage is lower, and reported.
      else expect(rate, d.id).toBeLessThan(0.25);
      if (d.quick && !d.id.startsWith('xiehouyu')) expect(enc.unknownCount, d.id).toBe(0);
    }
  });

  it('lets no crude 歇后语 through the filter list', () => {
    const block = loadBlocklist();
    expect(block.length).toBeGreaterThan(20);
    for (const f of ['xiehouyu.jsonl', 'xiehouyu-quick.jsonl']) {
      const { pairs } = parsePairs(read(f), f);
      for (const p of pairs) for (const w of block) expect(p.prompt + p.response, w).not.toContain(w);
    }
    expect(entry('xiehouyu').pairs).toBeGreaterThan(10_000);
  });

  it('ships at least 300 original English pairs', () => {
    const { pairs } = parsePairs(read('sailor.jsonl'), 'sailor.jsonl');
    expect(pairs.length).toBeGreaterThanOrEqual(300);
    expect(new Set(pairs.map((p) => p.prompt)).size).toBe(pairs.length);
    const moby = read('moby-dick.txt');
    // Our own text: no response is lifted from the novel.
    for (const p of pairs) expect(moby.includes(p.response), p.response).toBe(false);
    const lengths = pairs.map((p) => p.response.length);
    expect(Math.min(...lengths)).toBeLessThan(40);
    expect(Math.max(...lengths)).toBeGreaterThan(120);
  });
});
