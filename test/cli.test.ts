import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import type { Sink } from '../cli/sink';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import { sequentialWindows } from '../src/engine/data/corpus';
import { referenceLoss, type Weights } from './reference';
import { TEXT } from './engine/helpers';
import { buildDatasets } from '../scripts/build-datasets';
import { tempDir } from './tempDir';

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = tempDir('cli-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

const cli = (...args: string[]) => main(args, sink);

describe('cli', () => {
  it('writes only through the sink it is given: no console, no direct stream writes in its commands', () => {
    // bench.ts is the benchmark's own entry point (it prints its tables), and ceiling.ts the copies it starts (they
    // talk to it over stdout): not commands of the CLI.
    const benchmark = ['bench.ts', 'ceiling.ts'];
    const files = readdirSync('cli').filter((f) => f.endsWith('.ts') && f !== 'sink.ts' && !benchmark.includes(f));
    expect(files).toContain('main.ts');
    // (main.ts's entry point writes '' to stdout only to exit once it has flushed.)
    for (const f of files) expect(readFileSync(join('cli', f), 'utf8'), f).not.toMatch(/console\.|process\.(stdout|stderr)\.write\((?!'')/);
  });

  it('pretrains, evaluates (loss over every window, checked against a reference), samples, fine-tunes and describes', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const ckpt = join(dir, 'm.safetensors');
    expect(
      await cli(
        'pretrain',
        '--text',
        text,
        '--preset',
        'tiny',
        '--block',
        '16',
        '--embd',
        '16',
        '--layers',
        '3',
        '--steps',
        '30',
        '--batch',
        '4',
        '--eval-every',
        '10',
        '--eval-iters',
        '2',
        '--lr',
        '0.01',
        '--out',
        ckpt,
      ),
    ).toBe(0);
    expect(out.join('\n')).toMatch(/eval at step 30: train loss [\d.]+, val loss [\d.]+/);
    const c = readCheckpoint(new Uint8Array(readFileSync(ckpt)));
    expect(c.training).toMatchObject({ step: 30, phase: 'pretrain' });

    // eval: the last line is "loss X", the mean over all non-overlapping windows, computed here in float64
    const evalText = join(dir, 'eval.txt');
    writeFileSync(evalText, TEXT.slice(0, 400));
    out = [];
    expect(await cli('eval', '--ckpt', ckpt, '--text', evalText, '--batch', '3')).toBe(0);
    const last = out[out.length - 1];
    expect(last).toMatch(/^loss \d+\.\d+$/);
    const ids = c.tokenizer.encode(TEXT.slice(0, 400)).ids;
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (const b of sequentialWindows(ids, 16, 1000)) {
      for (let r = 0; r < b.batchSize; r++) {
        xs.push(Array.from(b.x.subarray(r * 16, r * 16 + 16)));
        ys.push(Array.from(b.y.subarray(r * 16, r * 16 + 16)));
      }
    }
    expect(xs).toHaveLength(Math.floor((ids.length - 1) / 16));
    const W: Weights = {};
    for (const [n, t] of c.params) W[n] = { data: Float64Array.from(t.data), shape: t.shape };
    const want = referenceLoss({ ...c.config }, W, xs, ys);
    expect(Math.abs(Number(last.split(' ')[1]) - want)).toBeLessThan(1e-4);

    out = [];
    expect(await cli('sample', '--ckpt', ckpt, '--prompt', 'Call', '--tokens', '12', '--seed', '3')).toBe(0);
    const first = out.join('');
    out = [];
    await cli('sample', '--ckpt', ckpt, '--prompt', 'Call', '--tokens', '12', '--seed', '3');
    expect(out.join('')).toBe(first);
    expect(first.startsWith('Call')).toBe(true);

    const pairs = join(dir, 'pairs.csv');
    writeFileSync(pairs, 'prompt,response\n' + Array.from({ length: 12 }, (_, i) => `Call me,Ishmael ${i % 7}.`).join('\n'));
    const ft = join(dir, 'ft.safetensors');
    out = [];
    expect(
      await cli(
        'finetune',
        '--init',
        ckpt,
        '--pairs',
        pairs,
        '--text',
        text,
        '--freeze',
        'bottom:2',
        '--steps',
        '6',
        '--batch',
        '4',
        '--eval-every',
        '3',
        '--eval-iters',
        '1',
        '--out',
        ft,
      ),
    ).toBe(0);
    expect(out.join('\n')).toMatch(/pairs-val loss [\d.]+, corpus-val loss [\d.]+/);
    const f = readCheckpoint(new Uint8Array(readFileSync(ft)));
    expect(f.training).toMatchObject({ step: 36, phase: 'finetune', freezePlan: { kind: 'bottom', k: 2 } });
    for (const name of ['transformer.wte.weight', 'transformer.h.1.mlp.c_fc.weight']) expect(f.params.get(name)!.data).toEqual(c.params.get(name)!.data);
    expect(f.params.get('transformer.h.2.mlp.c_fc.weight')!.data).not.toEqual(c.params.get('transformer.h.2.mlp.c_fc.weight')!.data);

    out = [];
    expect(await cli('info', '--ckpt', ft)).toBe(0);
    expect(out.join('\n')).toMatch(/3 layers, 2 heads, width 16, context 16/);
  });

  it('pretrains with a BPE tokenizer (--tokenizer bpe:N), stores it in the file, and evaluates in loss per token and bits per character', async () => {
    const text = join(dir, 'corpus.txt');
    // The tokenizer learns from the first 90 % (the model's training part): the poem comes first.
    writeFileSync(text, '床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n'.repeat(20) + TEXT);
    const ckpt = join(dir, 'bpe.safetensors');
    expect(
      await cli(
        'pretrain',
        '--text',
        text,
        '--tokenizer',
        'bpe:300',
        '--block',
        '16',
        '--embd',
        '16',
        '--layers',
        '2',
        '--steps',
        '6',
        '--batch',
        '4',
        '--eval-every',
        '3',
        '--eval-iters',
        '1',
        '--out',
        ckpt,
      ),
    ).toBe(0);
    const log = out.join('\n');
    const m = /^tokenizer BPE: (\d+) tokens \(256 bytes, (\d+) characters, (\d+) merges\)/m.exec(log);
    expect(m, log).not.toBeNull();
    expect(Number(m![1])).toBe(256 + Number(m![2]) + Number(m![3]));
    expect(Number(m![2])).toBe(19); // the poem's 19 distinct characters, each seen 20 times or more
    expect(log).toMatch(/vocabulary \d+, [\d.]+ characters per token/);
    const c = readCheckpoint(new Uint8Array(readFileSync(ckpt)));
    expect(c.tokenizer.kind).toBe('bpe');
    expect(c.config.vocabSize).toBe(Number(m![1]));
    expect(c.training).toMatchObject({ step: 6, phase: 'pretrain', tokenizer: `bpe:${m![1]}` });

    // eval: bits per character, then the loss per token last; bpc = loss · targets / (characters · ln 2), the
    // characters being those the scored targets spell (counted here from the windows themselves).
    const evalText = join(dir, 'eval.txt');
    const sample = TEXT.slice(0, 300) + '明月光 😀 naïve\n';
    writeFileSync(evalText, sample);
    out = [];
    expect(await cli('eval', '--ckpt', ckpt, '--text', evalText, '--batch', '3')).toBe(0);
    const [windows, bpcLine, lossLine] = out.slice(-3);
    const loss = Number(/^loss (\d+\.\d+)$/.exec(lossLine)![1]);
    const bpc = Number(/^bits-per-char (\d+\.\d+)$/.exec(bpcLine)![1]);
    const ids = c.tokenizer.encode(sample).ids;
    const targets = [...sequentialWindows(ids, 16, 1000)].flatMap((b) => Array.from(b.y));
    const chars = c.tokenizer.charCount(targets);
    expect(windows).toContain(`(${targets.length} targets, ${chars} characters`);
    expect(chars).toBeGreaterThan(targets.length); // merged tokens hold several characters
    expect(Math.abs(bpc - (loss * targets.length) / (chars * Math.LN2))).toBeLessThan(1e-5);

    out = [];
    expect(await cli('info', '--ckpt', ckpt)).toBe(0);
    expect(out.join('\n')).toMatch(/vocabulary: \d+ tokens, BPE \(256 bytes, \d+ characters, \d+ merges\): … "/);
    out = [];
    expect(await cli('sample', '--ckpt', ckpt, '--prompt', 'Call 明', '--tokens', '12', '--seed', '3')).toBe(0);
    expect(out.join('').startsWith('Call 明')).toBe(true);

    const pairs = join(dir, 'pairs.csv');
    writeFileSync(pairs, 'prompt,response\n' + Array.from({ length: 12 }, (_, i) => `床前明月光,疑是地上霜 ${i % 7}`).join('\n'));
    expect(
      await cli('finetune', '--init', ckpt, '--pairs', pairs, '--steps', '2', '--batch', '4', '--eval-every', '0', '--out', join(dir, 'ft.safetensors')),
    ).toBe(0);
    expect(readCheckpoint(new Uint8Array(readFileSync(join(dir, 'ft.safetensors')))).tokenizer.kind).toBe('bpe');

    for (const bad of ['bpe:100', 'bpe:9000', 'bpe:', 'word', 'bpe:3e3']) {
      err = [];
      expect(await cli('pretrain', '--text', text, '--tokenizer', bad, '--out', join(dir, 'x.safetensors'))).toBe(2);
      expect(err).toEqual([`error: --tokenizer must be char, bpe or bpe:N with N a whole number from 256 to 8192, got "${bad}"`]);
    }
  });

  it('evaluates a character model in bits per character too: its loss per token over ln 2', async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const ckpt = join(dir, 'c.safetensors');
    expect(
      await cli(
        'pretrain',
        '--text',
        text,
        '--block',
        '16',
        '--embd',
        '16',
        '--layers',
        '1',
        '--steps',
        '2',
        '--batch',
        '2',
        '--eval-every',
        '0',
        '--out',
        ckpt,
      ),
    ).toBe(0);
    out = [];
    expect(await cli('eval', '--ckpt', ckpt, '--text', text)).toBe(0);
    const loss = Number(out[out.length - 1].split(' ')[1]);
    const bpc = Number(out[out.length - 2].split(' ')[1]);
    expect(out[out.length - 2]).toMatch(/^bits-per-char /);
    expect(Math.abs(bpc - loss / Math.LN2)).toBeLessThan(1e-5);
  });

  it("runs nanoGPT's recipe with --recipe nanogpt (flags still win) and refuses it for a preset nanoGPT lacks", async () => {
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, TEXT);
    const ckpt = join(dir, 'n.safetensors');
    // baby's recipe (batch 12, lr 1e-3, warmup 100, cosine to 1e-4 over 2000 steps) on a shrunk model, cut to 2 steps
    const small = ['--layers', '1', '--heads', '1', '--embd', '8', '--block', '8', '--eval-every', '0'];
    expect(await cli('pretrain', '--text', text, '--preset', 'baby', '--recipe', 'nanogpt', ...small, '--steps', '2', '--out', ckpt)).toBe(0);
    expect(out.join('\n')).toContain('run (recipe nanogpt): 2 steps, batch 12, lr 0.001 warmup 1 then cosine to 0.0001 at step 2, seed 1337');
    expect(readCheckpoint(new Uint8Array(readFileSync(ckpt))).training).toMatchObject({ step: 2, lr: 1e-3, batch: 12 });
    out = [];
    expect(await cli('pretrain', '--text', text, '--preset', 'baby', '--recipe', 'nanogpt', ...small, '--steps', '1', '--batch', '3', '--out', ckpt)).toBe(0);
    expect(out.join('\n')).toContain('run (recipe nanogpt): 1 steps, batch 3, lr 0.001');
    expect(await cli('pretrain', '--text', text, '--preset', 'tiny', '--recipe', 'nanogpt', '--out', ckpt)).toBe(2);
    expect(err.pop()).toBe('error: --recipe nanogpt needs --preset baby or small (nanoGPT has no recipe for tiny)');
    expect(await cli('pretrain', '--text', text, '--recipe', 'karpathy', '--out', ckpt)).toBe(2);
    expect(err.pop()).toBe('error: --recipe must be lesson or nanogpt, got "karpathy"');
  });
  it('accepts bundled dataset ids for --text and --pairs', async () => {
    buildDatasets();
    const ckpt = join(dir, 'q.safetensors');
    expect(await cli('pretrain', '--text', 'moby-dick-quick', '--steps', '2', '--batch', '2', '--eval-every', '0', '--out', ckpt)).toBe(0);
    expect(out.join('\n')).toMatch(/pretrain moby-dick-quick\.txt/);
    expect(readCheckpoint(new Uint8Array(readFileSync(ckpt))).training).toMatchObject({ dataset: 'moby-dick-quick' });
    expect(
      await cli(
        'finetune',
        '--init',
        ckpt,
        '--pairs',
        'sailor-quick',
        '--steps',
        '2',
        '--batch',
        '2',
        '--eval-every',
        '0',
        '--freeze',
        'top:1',
        '--out',
        join(dir, 'f.safetensors'),
      ),
    ).toBe(0);
    err = [];
    expect(await cli('pretrain', '--text', 'sailor', '--out', ckpt)).toBe(1);
    expect(err[0]).toMatch(/sailor is a bundled pairs dataset, but a corpus is needed here/);
    err = [];
    expect(await cli('pretrain', '--text', 'no-such-set', '--out', ckpt)).toBe(1);
    expect(err[0]).toMatch(/bundled corpus datasets: moby-dick, moby-dick-quick/);
  });

  it('evaluates a model on dialogue pairs: response loss, word share, and format share last', async () => {
    buildDatasets();
    const ckpt = join(dir, 'q.safetensors');
    expect(await cli('pretrain', '--text', 'moby-dick-quick', '--steps', '2', '--batch', '2', '--eval-every', '0', '--out', ckpt)).toBe(0);
    out = [];
    expect(await cli('eval', '--ckpt', ckpt, '--pairs', 'sailor-quick', '--tokens', '8', '--verbose')).toBe(0);
    const lines = out.join('\n').split('\n').filter(Boolean);
    const tail = lines.slice(-3);
    expect(tail[0]).toMatch(/^loss \d+\.\d+$/);
    expect(tail[1]).toMatch(/^words (\d+\.\d|n\/a)$/);
    expect(tail[2]).toMatch(/^format \d+\.\d$/);
    // One verdict per held-out prompt, and the share printed last is the share of 'ok' verdicts.
    const verdicts = lines.filter((l) => /^(ok |bad) "/.test(l));
    expect(verdicts).toHaveLength(40);
    const ok = verdicts.filter((l) => l.startsWith('ok ')).length;
    expect(tail[2]).toBe(`format ${((100 * ok) / 40).toFixed(1)}`);
    // Two steps of training: nearly every reply runs on to the 8-character limit.
    expect(ok).toBeLessThan(10);
    expect(lines.join('\n')).toMatch(/held-out prompts 40, words checked against moby-dick-quick/);
  });

  it("evaluates on the small world's pairs: the quiz's knowledge score, judged per answer, before the format line", async () => {
    buildDatasets();
    const ckpt = join(dir, 'w.safetensors');
    expect(await cli('pretrain', '--text', 'small-world', '--preset', 'tiny', '--steps', '2', '--batch', '2', '--eval-every', '0', '--out', ckpt)).toBe(0);
    out = [];
    expect(await cli('eval', '--ckpt', ckpt, '--pairs', 'small-world-qa', '--tokens', '8', '--verbose')).toBe(0);
    const lines = out.join('\n').split('\n').filter(Boolean);
    const tail = lines.slice(-4);
    expect(tail[0]).toMatch(/^quiz 400 questions about people only the pretraining text mentions \(chance 12\.5\)$/);
    expect(tail[1]).toMatch(/^knowledge-person \d+\.\d$/);
    expect(tail[2]).toMatch(/^knowledge \d+\.\d$/);
    expect(tail[3]).toMatch(/^format \d+\.\d$/);
    // One verdict per quiz question; the score is the share of ✓.
    const verdicts = lines.filter((l) => /^[✓✗][ ?] "/.test(l));
    expect(verdicts).toHaveLength(400);
    expect(tail[2]).toBe(`knowledge ${((100 * verdicts.filter((l) => l.startsWith('✓')).length) / 400).toFixed(1)}`);
    expect(tail[1]).toBe(`knowledge-person ${((100 * verdicts.filter((l) => l[1] === ' ').length) / 400).toFixed(1)}`);
    expect(verdicts[0]).toMatch(/\(expected ".+ lives in [A-Z]\w+\."\)$/);
  });

  it('gives one clear line and a non-zero exit for bad arguments and files', async () => {
    const text = join(dir, 't.txt');
    writeFileSync(text, TEXT);
    const bin = join(dir, 'b.bin');
    writeFileSync(bin, Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]));
    const cases: [string[], number, RegExp][] = [
      [['pretrain', '--text', text, '--out', join(dir, 'x'), '--heads', '3'], 1, /nEmbd \(32\) must be divisible by nHead \(3\)/],
      [['pretrain', '--text', text, '--out', join(dir, 'x'), '--steps', 'ten'], 2, /--steps must be a whole number/],
      [['pretrain', '--text', text], 2, /pretrain needs --out/],
      [['pretrain', '--text', join(dir, 'missing.txt'), '--out', 'x'], 1, /no such file or bundled dataset/],
      [['pretrain', '--text', bin, '--out', 'x'], 1, /not UTF-8 text/],
      [['info', '--ckpt', text], 1, /not a valid safetensors file/],
      [['finetune', '--init', text, '--pairs', text, '--out', 'x'], 1, /not a valid safetensors file/],
      [['frobnicate'], 2, /unknown command "frobnicate"/],
      [['pretrain', '--wat'], 2, /Unknown option '--wat'/],
      [['info', '--ckpt', 'x', '--backend', 'tpu'], 2, /--backend must be one of wasm, cpu, webgpu/],
      [['info', '--ckpt', 'x', '--threads', '0'], 2, /--threads must be a whole number ≥ 1 and ≤ 64, got "0"/],
      [['info', '--ckpt', 'x', '--threads', '1.5'], 2, /--threads must be a whole number/],
      [['info', '--ckpt', 'x', '--backend', 'cpu', '--threads', '2'], 2, /--threads applies to the wasm backend, not cpu/],
    ];
    for (const [args, code, message] of cases) {
      err = [];
      expect(await cli(...args), args.join(' ')).toBe(code);
      expect(err, args.join(' ')).toHaveLength(1);
      expect(err[0]).toMatch(/^error: /);
      expect(err[0]).toMatch(message);
    }
  });
});
