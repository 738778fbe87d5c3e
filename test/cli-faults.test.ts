/**
 * The CLI when things go wrong: a full disk (a file-size limit) while writing over the --init file, outputs
 * that cannot be written, oversized inputs, out-of-range arguments, Ctrl-C, SIGTERM, SIGHUP and lost output
 * during training, and inputs the run would otherwise take silently. The write and the signals run the CLI as
 * a real process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { interruptHandler, main, stoppedCode } from '../cli/main';
import type { Sink } from '../cli/sink';
import { checkInputFile } from '../cli/inputs';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import { MAX_UPLOAD_BYTES } from '../src/engine/data/limits';
import { TEXT } from './engine/helpers';
import { tempDir } from './tempDir';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = tempDir('cli-faults-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

const cli = (...args: string[]) => main(args, sink);
const SMALL = ['--preset', 'tiny', '--block', '16', '--batch', '2', '--eval-every', '0'];

/** A pretrained checkpoint (tiny, context 16: about 117 KiB) and the text it was trained on. */
async function pretrained(): Promise<{ ckpt: string; text: string }> {
  const text = join(dir, 'corpus.txt');
  writeFileSync(text, TEXT);
  const ckpt = join(dir, 'm.safetensors');
  expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '2', '--out', ckpt)).toBe(0);
  return { ckpt, text };
}

function sparseFile(path: string, size: number) {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
}

/** Runs `bash -c script` from the repository root; resolves with the exit code and both outputs. */
function run(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const CLI = 'node --import tsx cli/main.ts';

describe('cli faults', () => {
  it('a write that fails (disk full: a 64 KiB file-size limit) leaves --init, the file it would replace, untouched', async () => {
    const { ckpt } = await pretrained();
    const before = readFileSync(ckpt);
    expect(before.length).toBeGreaterThan(64 * 1024);
    const pairs = join(dir, 'pairs.csv');
    writeFileSync(pairs, 'prompt,response\n' + Array.from({ length: 6 }, (_, i) => `Call me,Ishmael ${i}.`).join('\n'));
    // SIGXFSZ ignored: the write fails with EFBIG instead of the signal killing the process.
    const limited = (args: string) => run(`trap '' XFSZ; ulimit -f 64; exec ${CLI} ${args}`);
    const cases = [
      `finetune --init ${quote(ckpt)} --pairs ${quote(pairs)} --out ${quote(ckpt)} --steps 2 --batch 2 --eval-every 0`,
      `convert --ckpt ${quote(ckpt)} --out ${quote(ckpt)} --dtype f32`,
    ];
    for (const args of cases) {
      const r = await limited(args);
      expect(r.code, `${args}\n${r.stdout}\n${r.stderr}`).not.toBe(0);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toContain(ckpt);
      expect(lines[0]).toMatch(/nothing was overwritten/);
      expect(readFileSync(ckpt).equals(before)).toBe(true);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    }
  });

  it('checks --out before training: a missing directory, a directory, a file for a directory', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'file'), 'x');
    const cases: [string, RegExp][] = [
      [join(dir, 'missing', 'm.safetensors'), /cannot write .*missing.*: the directory .*missing does not exist/],
      [join(dir, 'sub'), /cannot write .*sub: it is a directory/],
      [join(dir, 'file', 'm.safetensors'), /cannot write .*: .*file is not a directory/],
    ];
    for (const [target, message] of cases) {
      out = [];
      err = [];
      expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '2', '--out', target), target).toBe(1);
      expect(err, target).toHaveLength(1);
      expect(err[0]).toMatch(/^error: /);
      expect(err[0]).toMatch(message);
      expect(out, 'nothing trained').toEqual([]);
    }
    const { ckpt } = await pretrained();
    out = [];
    err = [];
    expect(await cli('finetune', '--init', ckpt, '--pairs', text, '--out', join(dir, 'nope', 'f.safetensors'))).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^error: cannot write .*nope.*does not exist/);
    expect(out).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('--out through a symbolic link writes its target and keeps the link; a dangling link creates its target', async () => {
    const { ckpt, text } = await pretrained();
    mkdirSync(join(dir, 'store'));
    const target = join(dir, 'store', 'model.safetensors');
    writeFileSync(target, 'old');
    const link = join(dir, 'latest.safetensors');
    symlinkSync(join('store', 'model.safetensors'), link); // relative, as `ln -s` is usually given
    out = [];
    expect(await cli('convert', '--ckpt', ckpt, '--out', link, '--dtype', 'f32')).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join('store', 'model.safetensors'));
    expect(readFileSync(target).equals(readFileSync(ckpt))).toBe(true);
    expect(out[0]).toBe(`--out ${link} is a symbolic link: writing to its target ${realpathSync(target)}`);
    expect(out).toHaveLength(2); // and the "wrote" line
    expect(readdirSync(join(dir, 'store')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A training run through a link to its own --init: the link stays, the model it points to is the new one.
    out = [];
    expect(await cli('finetune', '--init', link, '--pairs', 'sailor-quick', '--steps', '1', '--batch', '2', '--eval-every', '0', '--out', link)).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readCheckpoint(new Uint8Array(readFileSync(target))).training).toMatchObject({ phase: 'finetune' });
    // Dangling: the file it names is created.
    const dangling = join(dir, 'next.safetensors');
    symlinkSync(join(dir, 'store', 'new.safetensors'), dangling);
    out = [];
    expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '1', '--out', dangling)).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readCheckpoint(new Uint8Array(readFileSync(join(dir, 'store', 'new.safetensors')))).training.step).toBe(1);
    // A loop is refused before any work.
    const loop = join(dir, 'loop.safetensors');
    symlinkSync(loop, loop);
    out = [];
    err = [];
    expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '1', '--out', loop)).toBe(1);
    expect(err).toEqual([`error: cannot write ${loop}: it is a symbolic link that cannot be followed (ELOOP)`]);
    expect(out).toEqual([]);
  });

  it.runIf(existsSync('/proc/self'))('--out in a directory that exists but takes no files (/proc) says so, not that it does not exist', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '1', '--out', '/proc/x.safetensors')).toBe(1);
    expect(err).toEqual(['error: cannot write /proc/x.safetensors: the directory /proc is not writable: it takes no new files (ENOENT)']);
    expect(out).toEqual([]);
  });

  it(`refuses text and pairs files over ${MAX_UPLOAD_BYTES / 1048576} MiB from their size, before reading them`, async () => {
    const edge = join(dir, 'edge.txt');
    sparseFile(edge, MAX_UPLOAD_BYTES);
    expect(() => checkInputFile(edge)).not.toThrow();
    sparseFile(edge, MAX_UPLOAD_BYTES + 1);
    expect(() => checkInputFile(edge)).toThrow(/edge\.txt is 20\.0 MiB: text and pairs files are limited to 20 MiB/);
    // 3 GiB (sparse): reading it would fail differently (Node refuses files over 2 GiB), so the size came first.
    const huge = join(dir, 'huge.txt');
    sparseFile(huge, 3 * 1024 ** 3);
    const { ckpt } = await pretrained();
    for (const args of [
      ['pretrain', '--text', huge, ...SMALL, '--steps', '1', '--out', join(dir, 'h.safetensors')],
      ['finetune', '--init', ckpt, '--pairs', huge, '--steps', '1', '--out', join(dir, 'h.safetensors')],
      ['finetune', '--init', ckpt, '--pairs', 'sailor-quick', '--text', huge, '--steps', '1', '--out', join(dir, 'h.safetensors')],
    ]) {
      err = [];
      expect(await cli(...args), args.join(' ')).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/^error: .*huge\.txt is 3072\.0 MiB: text and pairs files are limited to 20 MiB$/);
    }
  });

  it('refuses inputs that are not regular files by name, before opening them: /dev/zero and a FIFO exit at once', async () => {
    const fifo = join(dir, 'fifo.txt');
    execFileSync('mkfifo', [fifo]);
    const o = join(dir, 'x.safetensors');
    // Read, /dev/zero would never end and a FIFO with no writer would block before Ctrl-C could be handled.
    const cases: [string, RegExp][] = [
      [`pretrain --text /dev/zero --out ${quote(o)} --steps 1`, /^error: \/dev\/zero is a character device, not a regular file$/],
      [`pretrain --text ${quote(fifo)} --out ${quote(o)} --steps 1`, /^error: .*fifo\.txt is a FIFO \(named pipe\), not a regular file$/],
      [`info --ckpt ${quote(fifo)}`, /^error: .*fifo\.txt is a FIFO \(named pipe\), not a regular file$/],
    ];
    for (const [args, message] of cases) {
      const started = Date.now();
      const r = await run(`timeout 60 ${CLI} ${args}`);
      expect(r.code, `${args}\n${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(Date.now() - started, args).toBeLessThan(30_000);
    }
    expect(existsSync(o)).toBe(false);
  });

  it('refuses a socket, a device, a directory as --pairs, --init or --adapter with what it is', async () => {
    const { ckpt, text } = await pretrained();
    const sock = join(dir, 'sock');
    const server = createServer().listen(sock);
    await once(server, 'listening');
    try {
      const o = join(dir, 'f.safetensors');
      const cases: [string[], RegExp][] = [
        [['finetune', '--init', ckpt, '--pairs', sock, '--out', o], /^error: .*sock is a socket, not a regular file$/],
        [['finetune', '--init', '/dev/zero', '--pairs', text, '--out', o], /^error: \/dev\/zero is a character device, not a regular file$/],
        [['finetune', '--init', dir, '--pairs', text, '--out', o], /^error: .* is a directory, not a regular file$/],
        [['sample', '--ckpt', ckpt, '--adapter', '/dev/null'], /^error: \/dev\/null is a character device, not a regular file$/],
      ];
      for (const [args, message] of cases) {
        err = [];
        expect(await cli(...args), args.join(' ')).toBe(1);
        expect(err, args.join(' ')).toHaveLength(1);
        expect(err[0]).toMatch(message);
      }
    } finally {
      server.close();
    }
  });

  it('refuses out-of-range arguments in one line at parsing, as the engine would', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const o = join(dir, 'x.safetensors');
    const cases: [string[], RegExp][] = [
      [['--lr', '0'], /^error: --lr must be a number > 0 and ≤ 1000, got "0"$/],
      [['--lr', '-0.1'], /^error: --lr must be a number > 0 and ≤ 1000, got "-0.1"$/],
      [['--lr', '1e300'], /^error: --lr must be a number > 0 and ≤ 1000, got "1e300"$/],
      [['--steps', '-5'], /^error: --steps must be a whole number ≥ 1 and ≤ 1000000, got "-5"$/],
      // The page's limit: 1e12 steps would run for years, and read as 1e12 it is not a typo the run can take.
      [['--steps', '1e12'], /^error: --steps must be a whole number ≥ 1 and ≤ 1000000, got "1e12"$/],
      [['--steps', '1000001'], /^error: --steps must be a whole number ≥ 1 and ≤ 1000000, got "1000001"$/],
      [['--batch', '1e7'], /^error: --batch must be a whole number ≥ 1 and ≤ 1000000, got "1e7"$/],
      [['--warmup', '1e9'], /^error: --warmup must be a whole number ≥ 0 and ≤ 1000000, got "1e9"$/],
      [['--eval-every', '1e9'], /^error: --eval-every must be a whole number ≥ 0 and ≤ 1000000, got "1e9"$/],
      [['--grad-accum', '1e9'], /^error: --grad-accum must be a whole number ≥ 1 and ≤ 1000000, got "1e9"$/],
      // Seeds are 32-bit: 2^32 would silently be seed 0.
      [['--seed', '4294967296'], /^error: --seed must be a whole number ≥ 0 and ≤ 4294967295, got "4294967296"$/],
      [['--layers', '1000'], /^error: --layers must be a whole number ≥ 1 and ≤ \d+, got "1000"$/],
    ];
    for (const [extra, message] of cases) {
      out = [];
      err = [];
      expect(await cli('pretrain', '--text', text, ...SMALL, '--out', o, ...extra), extra.join(' ')).toBe(2);
      expect(err, extra.join(' ')).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(out).toEqual([]);
    }
    expect(existsSync(o)).toBe(false);
    // --steps 1000000, the limit itself, is taken (the run is refused later, for its output, before any step).
    err = [];
    expect(await cli('pretrain', '--text', text, ...SMALL, '--steps', '1000000', '--out', join(dir, 'missing', 'x.safetensors'))).toBe(1);
    expect(err[0]).toMatch(/does not exist/);
    // Sampling flags are bounded the same way.
    const { ckpt } = await pretrained();
    for (const [extra, message] of [
      [['--tokens', '1e9'], /^error: --tokens must be a whole number ≥ 0 and ≤ 1000000, got "1e9"$/],
      [['--temperature', '1e300'], /^error: --temperature must be a number ≥ 0 and ≤ 100, got "1e300"$/],
      [['--top-k', '1e9'], /^error: --top-k must be a whole number ≥ 0 and ≤ 1048576, got "1e9"$/],
    ] as [string[], RegExp][]) {
      err = [];
      expect(await cli('sample', '--ckpt', ckpt, ...extra), extra.join(' ')).toBe(2);
      expect(err, extra.join(' ')).toHaveLength(1);
      expect(err[0]).toMatch(message);
    }
    // An option left without its value is still one line.
    err = [];
    expect(await cli('pretrain', '--text', text, '--out', o, '--steps', '--lr', '1')).toBe(2);
    expect(err).toHaveLength(1);
  });

  /**
   * Starts a long pretraining run as a real process, waits for its first progress line (step 1 is done),
   * then `act`s on it; resolves with its exit code and output once it has ended.
   */
  async function stopRun(
    ckpt: string,
    act: (child: ReturnType<typeof spawn>) => void,
    steps = 100000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const args = [
      'pretrain',
      '--text',
      text,
      '--out',
      ckpt,
      '--steps',
      String(steps),
      '--preset',
      'tiny',
      '--block',
      '16',
      '--embd',
      '16',
      '--layers',
      '1',
      '--heads',
      '1',
      '--batch',
      '2',
      '--eval-every',
      '0',
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    await new Promise<void>((started) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (new RegExp(`^step 1/${steps} `, 'm').test(stdout)) started();
      });
      void closed.then(() => started());
    });
    act(child);
    const code = await closed;
    return { code, stdout, stderr };
  }

  /** The run saved what it had trained, a file that loads, at a step within the run, and left no temporary file. */
  function expectSaved(r: { stdout: string; stderr: string }, ckpt: string, steps = 100000) {
    expect(r.stderr).toBe('');
    const m = /^interrupted at step (\d+): saved what was trained to (.+) \([\d.]+ KiB\)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const n = Number(m![1]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThan(steps);
    expect(m![2]).toBe(ckpt);
    const c = readCheckpoint(new Uint8Array(readFileSync(ckpt)));
    expect(c.training).toMatchObject({ step: n, phase: 'pretrain' });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }

  // Ctrl-C, `kill` (or a service manager, a container runtime, a batch scheduler) and a closed terminal all save;
  // the exit code is 128 + the signal's number, as a shell reports a process the signal killed.
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${sig} stops training between steps, saves what was trained and exits with ${code}`, async () => {
      const ckpt = join(dir, `${sig}.safetensors`);
      const r = await stopRun(ckpt, (child) => child.kill(sig));
      expect(r.code, r.stdout + r.stderr).toBe(code);
      expectSaved(r, ckpt);
    });
  }

  it('output that is lost (the pipe closed, as a closed terminal would) stops the run, which saves and exits with 141', async () => {
    const ckpt = join(dir, 'pipe.safetensors');
    // 2,000 steps print a line every 100: the first one after the pipe closes fails with EPIPE.
    const r = await stopRun(ckpt, (child) => child.stdout!.destroy(), 2000);
    expect(r.code, r.stderr).toBe(141);
    expect(r.stderr).toBe('');
    const c = readCheckpoint(new Uint8Array(readFileSync(ckpt)));
    expect(c.training.step).toBeGreaterThanOrEqual(100);
    expect(c.training.step).toBeLessThan(2000);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a first Ctrl-C asks to stop; the same one delivered twice counts once; a later one quits at once', () => {
    let t = 0;
    let quits = 0;
    const ctl = new AbortController();
    const onInt = interruptHandler(
      ctl,
      () => void quits++,
      () => t,
      250,
    );
    onInt();
    expect(ctl.signal.aborted).toBe(true);
    expect(quits).toBe(0);
    t = 5; // relayed by a wrapper, or queued behind a long step
    onInt();
    expect(quits).toBe(0);
    t = 1000;
    onInt();
    expect(quits).toBe(1);
  });

  it('SIGTERM and SIGHUP are handled as Ctrl-C: the first is the stop (and the exit code), a later one quits with its own code', () => {
    expect([stoppedCode('SIGINT'), stoppedCode('SIGTERM'), stoppedCode('SIGHUP')]).toEqual([130, 143, 129]);
    let t = 0;
    const quits: string[] = [];
    const ctl = new AbortController();
    const onSignal = interruptHandler(
      ctl,
      (sig) => void quits.push(sig),
      () => t,
      250,
    );
    onSignal('SIGHUP');
    expect(ctl.signal.reason).toBe('SIGHUP');
    t = 10; // a closing terminal: SIGHUP, then SIGTERM from whatever notices — the same request
    onSignal('SIGTERM');
    expect(quits).toEqual([]);
    t = 2000;
    onSignal('SIGTERM');
    expect(quits).toEqual(['SIGTERM']);
    expect(ctl.signal.reason).toBe('SIGHUP');
  });

  it('refuses a run WebAssembly cannot hold before any work, naming the setting to lower (it used to grow to 3.4 GB and crash)', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const file = join(dir, 'never.safetensors');
    const t0 = performance.now();
    expect(await cli('pretrain', '--text', text, '--preset', 'baby', '--batch', '100000', '--out', file)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(20_000); // refused from the estimate, not after minutes of growing
    expect(err.join('\n')).toMatch(
      /^error: training needs about \d+\.\d GB, more than WebAssembly can hold \(3\.8 GB\): lower the batch size to \d+ or less$/m,
    );
    expect(existsSync(file)).toBe(false);
    // the batch it names is the largest the estimate allows (test/engine/memory.test.ts), well above the lesson's 12
    const fits = Number(err.join('\n').match(/batch size to (\d+)/)![1]);
    expect(fits).toBeGreaterThan(12);
  }, 60_000);

  it('a character vocabulary of 60,000 is warned about (BPE suggested), and refused on small at the default batch', async () => {
    // 60,000 distinct characters: Latin through Hangul, then the private-use area.
    let chars = '';
    for (let c = 0x100; c < 0xd800 && chars.length < 54_000; c++) chars += String.fromCharCode(c);
    for (let c = 0xe000; chars.length < 60_000; c++) chars += String.fromCharCode(c);
    const text = join(dir, 'many.txt');
    writeFileSync(text, chars + chars);
    expect(
      await cli(
        'pretrain',
        '--text',
        text,
        '--preset',
        'tiny',
        '--block',
        '16',
        '--batch',
        '2',
        '--steps',
        '1',
        '--eval-every',
        '0',
        '--out',
        join(dir, 'a.safetensors'),
      ),
    ).toBe(0);
    expect(out.join('\n')).toMatch(
      /^warning: the text has 60,000 distinct characters, so the character vocabulary \(60,002\) makes the embedding and the logits most of the model: --tokenizer bpe trains a smaller vocabulary$/m,
    );
    expect(await cli('pretrain', '--text', text, '--preset', 'small', '--batch', '12', '--out', join(dir, 'b.safetensors'))).toBe(1);
    expect(err.join('\n')).toMatch(/more than WebAssembly can hold/);
  }, 120_000);

  it('warns when a single pair leaves none held out, and about characters of the forgetting-curve text outside the vocabulary', async () => {
    const { ckpt } = await pretrained();
    const one = join(dir, 'one.csv');
    writeFileSync(one, 'prompt,response\nCall me,Ishmael.\n');
    const other = join(dir, 'other.txt');
    writeFileSync(other, TEXT.replace(/Call/g, 'Zürich').replace(/sea/g, 'sea→'));
    out = [];
    expect(
      await cli(
        'finetune',
        '--init',
        ckpt,
        '--pairs',
        one,
        '--text',
        other,
        '--steps',
        '1',
        '--batch',
        '2',
        '--eval-every',
        '1',
        '--eval-iters',
        '1',
        '--out',
        join(dir, 'f.safetensors'),
      ),
    ).toBe(0);
    const log = out.join('\n');
    expect(log).toMatch(/1 train \/ 0 val pairs/);
    expect(log).toMatch(/^warning: .*one\.csv has a single pair: none is held out, so the pairs-val loss is the training loss$/m);
    expect(log).toMatch(
      /^warning: \d+ character\(s\) of .*other\.txt \(the forgetting curve's text\) are not in the model's vocabulary and map to the unknown token: .*"Z".*$/m,
    );
    expect(log).toMatch(/"→"/);
  });
});
