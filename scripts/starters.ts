/**
 * `npm run starters`: the pretrained starter models that ship with the app ("here is one I trained
 * earlier"), so a lesson can start from a model that already writes its corpus's words and go straight to
 * fine-tuning. Each is trained by the CLI with a fixed seed and fixed settings, then stored in F16 (half the
 * size; loading converts exactly) in public/starters/, with the CLI's log, the training curve, the F16
 * model's validation loss and its scores on the held-out prompts before any fine-tuning.
 *
 *   npm run starters                 all starters (about an hour each on one 2-core machine)
 *   npm run starters -- --only zh    one of them
 *   npm run starters -- --steps 5 --out-dir /tmp/s --skip-scores    a short run elsewhere, without the
 *                                    (minutes-long) evaluations: the determinism test
 *   npm run starters -- --only en --from-f32 F --from-log L   package a finished run of the same command
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { STARTERS, STARTERS_DIR, STARTERS_FILE, type StarterEntry, type StarterSpec } from '../src/datasets/starters';
import { checkSample, generateWorld } from './smallWorld';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function cli(args: string[]): { out: string; ok: boolean } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return { out: r.stdout + r.stderr, ok: r.status === 0 };
}

/** The curve in a CLI log: train loss at each progress line, train/val at each evaluation. */
export function parseCurve(log: string): StarterEntry['curve'] {
  const points: StarterEntry['curve'] = [];
  for (const line of log.split('\n')) {
    const ev = /^eval at step (\d+): (.*)$/.exec(line);
    if (ev) {
      const losses = Object.fromEntries([...ev[2].matchAll(/([\w-]+) loss ([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
      points.push({
        step: Number(ev[1]),
        ...(losses.train !== undefined ? { train: losses.train } : {}),
        ...(losses.val !== undefined ? { val: losses.val } : {}),
      });
      continue;
    }
    const st = /^step (\d+)\/\d+ \| loss ([\d.]+)/.exec(line);
    if (st) points.push({ step: Number(st[1]), loss: Number(st[2]) });
  }
  return points;
}

const round1 = (x: number) => Math.round(10 * x) / 10;

function lastNumber(out: string, key: string): number | null {
  const m = [...out.matchAll(new RegExp(`^${key} ([\\d.]+)$`, 'gm'))].pop();
  return m ? Number(m[1]) : null;
}

/**
 * Train (or, with `from`, package a run of the same command made earlier: its F32 file and its log), convert
 * to F16, score.
 */
function train(spec: StarterSpec, outDir: string, steps: number | undefined, from?: { f32: string; log: string }, skipScores = false): StarterEntry {
  const work = mkdtempSync(join(tmpdir(), `starter-${spec.id}-`));
  try {
    let full = join(work, 'f32.safetensors');
    const args = ['pretrain', '--text', spec.corpus, '--out', full, ...spec.args];
    if (steps !== undefined) args.push('--steps', String(steps));
    console.log(`starter ${spec.id}: npm run cli -- ${args.join(' ').replace(full, 'F32_FILE')}`);
    let run: { out: string; ok: boolean };
    if (from) {
      full = from.f32;
      run = { out: readFileSync(from.log, 'utf8'), ok: true };
    } else run = cli(args);
    if (!run.ok) throw new Error(`starter ${spec.id}: pretraining failed`);
    // F16 for the build (checkpoint reading converts back exactly); the scores below are the F16 model's.
    const file = `${spec.id}.safetensors`;
    const conv = cli(['convert', '--ckpt', full, '--out', join(outDir, file), '--dtype', 'f16']);
    if (!conv.ok) throw new Error(`starter ${spec.id}: conversion failed`);
    const none = { out: '', ok: true };
    const val = skipScores ? none : cli(['eval', '--ckpt', join(outDir, file), '--text', spec.corpus, '--split', 'val']);
    const scores = skipScores ? none : cli(['eval', '--ckpt', join(outDir, file), '--pairs', spec.pairs, '--verbose']);
    if (!val.ok || !scores.ok) throw new Error(`starter ${spec.id}: evaluation failed`);
    // Small-world starters: do their samples read as the world's sentences? (Five samples of 400 tokens.)
    const world = spec.corpus === 'small-world' ? generateWorld({ lang: 'en' }) : spec.corpus === 'small-world-zh' ? generateWorld({ lang: 'zh' }) : null;
    let samples: StarterEntry['samples'] = null;
    const sampleLogs: string[] = [];
    if (world && !skipScores) {
      const texts: string[] = [];
      for (let seed = 1; seed <= 5; seed++) {
        const s = cli(['sample', '--ckpt', join(outDir, file), '--tokens', '400', '--seed', String(seed)]);
        if (!s.ok) throw new Error(`starter ${spec.id}: sampling failed`);
        texts.push(s.out);
        sampleLogs.push(s.out);
      }
      const c = checkSample(texts.join('\n\n'), world, spec.language);
      samples = { words: round1(100 * c.words), sentences: c.sentences, grammatical: round1(100 * c.grammatical) };
      console.log(`starter ${spec.id}: samples: ${samples.words}% known words, ${samples.grammatical}% of ${samples.sentences} sentences are the world's`);
    }
    const log = [run.out, conv.out, val.out, scores.out, ...sampleLogs].join('\n');
    writeFileSync(join(outDir, `${spec.id}.log`), log);
    return {
      id: spec.id,
      language: spec.language,
      title: spec.title,
      corpus: spec.corpus,
      pairs: spec.pairs,
      file,
      command: `npm run cli -- ${args.join(' ').replace(join(work, 'f32.safetensors'), `${spec.id}.safetensors`)}`,
      valLoss: lastNumber(val.out, 'loss'),
      format: lastNumber(scores.out, 'format'),
      words: lastNumber(scores.out, 'words'),
      knowledge: lastNumber(scores.out, 'knowledge'),
      samples,
      curve: parseCurve(run.out),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      steps: { type: 'string' },
      'out-dir': { type: 'string' },
      'from-f32': { type: 'string' },
      'from-log': { type: 'string' },
      'skip-scores': { type: 'boolean' },
    },
  });
  if ((values['from-f32'] || values['from-log']) && !(values['from-f32'] && values['from-log'] && values.only))
    throw new Error('--from-f32 and --from-log go together, with --only');
  const from = values['from-f32'] ? { f32: values['from-f32'], log: values['from-log']! } : undefined;
  const outDir = resolve(values['out-dir'] ?? join(root, 'public', STARTERS_DIR));
  mkdirSync(outDir, { recursive: true });
  const manifestPath = join(outDir, STARTERS_FILE);
  let entries: StarterEntry[];
  try {
    entries = JSON.parse(readFileSync(manifestPath, 'utf8')) as StarterEntry[];
  } catch {
    entries = [];
  }
  const chosen = STARTERS.filter((s) => !values.only || s.id === values.only);
  if (!chosen.length) throw new Error(`no starter "${values.only}" (starters: ${STARTERS.map((s) => s.id).join(', ')})`);
  for (const spec of chosen) {
    const entry = train(spec, outDir, values.steps === undefined ? undefined : Number(values.steps), from, values['skip-scores']);
    entries = [...entries.filter((e) => e.id !== spec.id), entry].sort(
      (a, b) => STARTERS.findIndex((s) => s.id === a.id) - STARTERS.findIndex((s) => s.id === b.id),
    );
    writeFileSync(manifestPath, JSON.stringify(entries, null, 1) + '\n');
    console.log(`starter ${spec.id}: ${entry.file}, val loss ${entry.valLoss}, format ${entry.format}%, words ${entry.words ?? 'n/a'}%`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`starters: ${(e as Error).message}`);
    process.exit(1);
  }
}
