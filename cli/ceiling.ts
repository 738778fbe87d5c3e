/**
 * `npm run bench -- --ceiling`: how far this machine lets the lesson's training scale over its cores, against how
 * far the engine's threads take it.
 *
 * Three ways to spend a window of the same seconds, each a separate process running the lesson's fine-tuning
 * steps (lessonBench.ts; no evaluations) on wasm:
 *   one     one copy on one thread                                   (the baseline)
 *   copies  N copies at once, one thread each: no sharing, no waiting (the machine's ceiling for N threads)
 *   threads one copy on N threads: the engine's kernel threads       (what a student's page gets)
 * Each reports steps a second; the copies' are added up. Copies share nothing but the machine — its cores' clock,
 * caches, memory bandwidth, and whatever else runs on it — so copies/one is as much as N threads could give this
 * workload here, and threads/one is how much of it the engine's split kernels take. Rounds alternate the three so
 * that a busy spell on a shared machine falls on all of them; ratios of the medians are reported.
 *
 * Each copy warms up first (compilation, the heap's growth), reports "ready", and starts its window when the
 * parent writes "go" to every copy at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { modelFromCheckpoint } from '../src/engine/io/checkpoint';
import { finetuneSpec, runSeed } from '../src/engine/train/specs';
import { Trainer } from '../src/engine/train/trainer';
import { nodeThreads, useNodeBackend } from './backend';
import { lessonBench, type LessonLang } from './lessonBench';
import { median } from './median';

const SELF = fileURLToPath(import.meta.url);
/** Steps before a copy's window: the first ~60 run slower (compilation tiers up, the heap grows). */
const WARMUP_STEPS = 60;

export interface CeilingRound {
  /** Steps a second: one copy on one thread; `copies` copies at once (added up); one copy on `threads` threads. */
  one: number;
  copies: number;
  threaded: number;
}

export interface CeilingResult {
  lang: LessonLang;
  threads: number;
  seconds: number;
  rounds: CeilingRound[];
  /**
   * The median of the copies' steps a second over that of one copy, and the same for the threads. Ratios of medians,
   * not medians of each round's ratio: on a shared machine a busy spell that halves one window would make that
   * round's ratios meaningless.
   */
  ceiling: number;
  scaling: number;
}

interface CopyReport {
  steps: number;
  ms: number;
  threads: number;
}

/** Start `count` copies (each on `threads` threads), wait until all are warm, start their windows together. */
async function runCopies(count: number, threads: number, seconds: number, lang: LessonLang): Promise<CopyReport[]> {
  const children: ChildProcess[] = [];
  try {
    const reports = Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [...process.execArgv, SELF, '--copy', '--threads', String(threads), '--seconds', String(seconds), '--lang', lang], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      const lines = createInterface({ input: child.stdout! });
      let onReady!: () => void;
      const ready = new Promise<void>((r) => (onReady = r));
      const report = new Promise<CopyReport>((resolve, reject) => {
        lines.on('line', (line) => {
          if (line === 'ready') onReady();
          else if (line.startsWith('{')) resolve(JSON.parse(line) as CopyReport);
        });
        // 'close', not 'exit': a copy exits right after writing its report, and 'exit' may come before its last line is read.
        child.on('close', (code) => reject(new Error(`a copy exited with code ${code} before it reported`)));
        child.on('error', reject);
      });
      // A copy that fails before "ready" rejects its report: don't wait for its readiness forever. (Its rejection
      // reaches the caller through Promise.all; the others', killed in `finally`, must not surface unhandled.)
      report.catch(() => undefined);
      return { ready: Promise.race([ready, report.then(() => undefined)]), report };
    });
    await Promise.all(reports.map((r) => r.ready));
    for (const child of children) child.stdin!.write('go\n');
    return await Promise.all(reports.map((r) => r.report));
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

const stepsPerSecond = (reports: CopyReport[]) => reports.reduce((sum, r) => sum + (1000 * r.steps) / r.ms, 0);

/** The three windows, `rounds` times over; `onRound` sees each round as it ends. */
export async function measureCeiling(
  lang: LessonLang,
  threads: number,
  rounds: number,
  seconds: number,
  onRound?: (round: CeilingRound) => void,
): Promise<CeilingResult> {
  if (threads < 2) throw new Error('--ceiling compares one thread with several: give --threads 2 or more');
  const done: CeilingRound[] = [];
  for (let r = 0; r < rounds; r++) {
    const one = stepsPerSecond(await runCopies(1, 1, seconds, lang));
    const copies = stepsPerSecond(await runCopies(threads, 1, seconds, lang));
    const threadedReports = await runCopies(1, threads, seconds, lang);
    if (threadedReports[0].threads !== threads) throw new Error(`asked for ${threads} threads, the copy trained on ${threadedReports[0].threads}`);
    const round = { one, copies, threaded: stepsPerSecond(threadedReports) };
    done.push(round);
    onRound?.(round);
  }
  return {
    lang,
    threads,
    seconds,
    rounds: done,
    ceiling: median(done.map((d) => d.copies)) / median(done.map((d) => d.one)),
    scaling: median(done.map((d) => d.threaded)) / median(done.map((d) => d.one)),
  };
}

/** A copy: warm up, say "ready", wait for "go", then train for the window and report its steps. */
async function copyMain(threads: number, seconds: number, lang: LessonLang): Promise<void> {
  await useNodeBackend('wasm', { threads });
  const { ckpt, settings, data } = lessonBench(lang);
  const model = modelFromCheckpoint(ckpt);
  const trainer = new Trainer(model, { seed: settings.seed });
  trainer.reseed(runSeed(settings.seed, false, ckpt.training.step ?? 0));
  // The lesson's steps and batches, without evaluations (they are not what scales); a read-back every step, so
  // that the window's end is seen at once (wasm reads back without waiting).
  const spec = { ...finetuneSpec(settings, data, ckpt.tokenizer), evalEvery: 0, logEvery: 1 };
  await trainer.run({ ...spec, steps: WARMUP_STEPS });
  const go = new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  const stop = new AbortController();
  let steps = 0;
  let ms = 0;
  const t0 = performance.now();
  await trainer.run(
    { ...spec, steps: Number.MAX_SAFE_INTEGER },
    {
      onStep: () => {
        steps++;
        ms = performance.now() - t0;
        if (ms >= 1000 * seconds) stop.abort();
      },
    },
    stop.signal,
  );
  const report: CopyReport = { steps, ms, threads: nodeThreads() };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  trainer.dispose();
  model.dispose();
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: { copy: { type: 'boolean' }, threads: { type: 'string' }, seconds: { type: 'string' }, lang: { type: 'string' } } });
  if (!values.copy) throw new Error('cli/ceiling.ts runs as a copy of `npm run bench -- --ceiling` (with --copy)');
  // Exit explicitly: the threaded wasm build's own threads would keep Node running after the report.
  copyMain(Number(values.threads), Number(values.seconds), values.lang as LessonLang).then(
    () => process.stdout.write('', () => process.exit(0)),
    (e) => {
      console.error(`copy: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
