import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDatasets, loadBlocklist, normaliseEnglish, regularLines } from '../scripts/build-datasets';
import type { DatasetManifest } from '../src/datasets/manifest';
import { parsePairs } from '../src/documents/pairsFile';
import { CharTokenizer } from '../src/engine/tokenizer/char';
import type { WorldFacts } from '../src/engine/eval/quiz';
import { generateWorld } from '../scripts/smallWorld';
import { tempDir } from './tempDir';

let dir: string;
let manifest: DatasetManifest;
const read = (f: string) => readFileSync(join(dir, f), 'utf8');
const entry = (id: string) => manifest.datasets.find((d) => d.id === id)!;

beforeAll(() => {
  dir = tempDir('datasets-');
  manifest = buildDatasets(dir, true).manifest;
});

describe('dataset build step', () => {
  it('is deterministic: a second build gives byte-identical files', () => {
    const again = tempDir('datasets-');
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
    expect(ids).toEqual(
      expect.arrayContaining([
        'moby-dick',
        'moby-dick-quick',
        'sailor',
        'sailor-quick',
        'tang-jueju',
        'tang-jueju-quick',
        'tang-lvshi',
        'couplets',
        'couplets-quick',
        'xiehouyu',
        'xiehouyu-quick',
      ]),
    );
    for (const d of manifest.datasets) {
      expect(d.title.en && d.title.zh && d.license && d.source && d.attribution.en && d.attribution.zh, d.id).toBeTruthy();
      // Said in Chinese in the Chinese page (its names and addresses may stay as they are).
      expect(d.attribution.zh, d.id).toMatch(/[\u4e00-\u9fff]/);
      expect(d.source, d.id).not.toMatch(/converted with/);
      if (d.kind === 'pairs')
        expect(
          manifest.datasets.some((c) => c.id === d.corpus && c.kind === 'corpus'),
          d.id,
        ).toBe(true);
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
      if (d.id.startsWith('small-world')) expect(enc.unknownCount, d.id).toBe(0);
      else if (d.id.startsWith('couplets') || d.id.startsWith('sailor')) expect(rate, d.id).toBeLessThan(0.01);
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

  describe('the small world', () => {
    for (const [lang, id] of [
      ['en', 'small-world'],
      ['zh', 'small-world-zh'],
    ] as const) {
      it(`${lang}: at least 100 people, a facts file beside the corpus, every fact in the text as the file says`, () => {
        const facts = JSON.parse(read(entry(id).facts!)) as WorldFacts[];
        expect(entry(id).facts).toMatch(/facts.*\.json$/);
        expect(facts.length).toBeGreaterThanOrEqual(100);
        expect(new Set(facts.map((f) => f.name)).size).toBe(facts.length);
        expect(new Set(facts.map((f) => f.split))).toEqual(new Set(['train', 'quiz']));
        const corpus = read(entry(id).file);
        const plain = read(entry(`${id}-plain`).file);
        for (const f of facts) {
          expect(Object.keys(f.facts)).toEqual(lang === 'en' ? ['town', 'job', 'pet', 'food'] : ['城镇', '职业', '宠物', '食物']);
          for (const v of Object.values(f.facts)) {
            expect(corpus.includes(v), `${f.name}: ${v}`).toBe(true);
            expect(plain.includes(v), `${f.name}: ${v}`).toBe(true);
          }
        }
        // Augmented: the same person's paragraphs differ; plain: one paragraph repeated.
        const about = (text: string, name: string) => new Set(text.split('\n\n').filter((p) => p.startsWith(name)));
        expect(about(corpus, facts[0].name).size).toBeGreaterThan(5);
        expect(about(plain, facts[0].name).size).toBe(1);
      });

      it(`${lang}: the quiz asks only about people no pair mentions, each fact at least once in a wording no pair uses`, () => {
        const facts = JSON.parse(read(entry(id).facts!)) as WorldFacts[];
        const qa = entry(`${id}-qa`);
        const { pairs } = parsePairs(read(qa.file), qa.file);
        const quiz = qa.quiz!;
        const quizPeople = new Set(facts.filter((f) => f.split === 'quiz').map((f) => f.name));
        const trainPeople = facts.filter((f) => f.split === 'train').map((f) => f.name);
        const named = (text: string, names: Iterable<string>) =>
          [...names].filter((n) => (lang === 'zh' ? text.includes(n) : new RegExp(`\\b${n}\\b`).test(text)));
        for (const p of pairs) expect(named(p.prompt + p.response, quizPeople), p.prompt).toEqual([]);
        const prompts = new Set(pairs.map((p) => p.prompt));
        // Wordings: a question with its name taken out.
        const wording = (prompt: string, name: string) => prompt.replace(name, '{n}');
        const pairWordings = new Set(pairs.map((p) => wording(p.prompt, named(p.prompt, trainPeople)[0])));
        for (const q of quiz.items) {
          expect(quizPeople.has(q.name), q.name).toBe(true);
          expect(prompts.has(q.prompt)).toBe(false);
          expect(q.value).toBe(facts.find((f) => f.name === q.name)!.facts[q.attribute]);
          expect(pairWordings.has(wording(q.prompt, q.name)), q.prompt).toBe(!q.unseenWording);
        }
        for (const f of facts.filter((x) => x.split === 'quiz')) {
          for (const a of Object.keys(f.facts))
            expect(
              quiz.items.some((q) => q.name === f.name && q.attribute === a && q.unseenWording),
              `${f.name} ${a}`,
            ).toBe(true);
        }
        expect(quiz.chance).toBeCloseTo(1 / 8);
      });
    }

    it('is generated from a seed: the same seed gives the same world, another seed another', () => {
      expect(generateWorld({ lang: 'en', seed: 3 })).toEqual(generateWorld({ lang: 'en', seed: 3 }));
      expect(generateWorld({ lang: 'en', seed: 3 }).corpus).not.toBe(generateWorld({ lang: 'en', seed: 4 }).corpus);
    });
  });
});
