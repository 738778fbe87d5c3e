/**
 * LoRA from the CLI: `finetune --lora R [--lora-alpha A] [--lora-targets …] --export merged|adapter`. The merged
 * file is a plain nanoGPT state dict (PyTorch's loss on it equals ours); the adapter file reproduces the merged
 * model on its base (`eval --adapter`) and is refused on another.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import type { Sink } from '../cli/sink';
import { parseFlags, settingsFromFlags } from '../cli/args';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import { readAdapter } from '../src/engine/io/adapter';
import { TEXT } from './engine/helpers';
import { tempDir } from './tempDir';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = tempDir('cli-lora-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

const PAIRS = Array.from({ length: 12 }, (_, i) => JSON.stringify({ prompt: `sea ${i % 7}?`, response: `I went to sea ${i % 7} times.` })).join('\n');

async function base(seed = '1'): Promise<{ ckpt: string; text: string; pairs: string }> {
  const text = join(dir, 'corpus.txt');
  writeFileSync(text, TEXT);
  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, PAIRS);
  const ckpt = join(dir, `base${seed}.safetensors`);
  expect(
    await main(
      [
        'pretrain',
        '--text',
        text,
        '--block',
        '32',
        '--embd',
        '16',
        '--layers',
        '2',
        '--heads',
        '2',
        '--steps',
        '3',
        '--batch',
        '2',
        '--eval-every',
        '0',
        '--seed',
        seed,
        '--out',
        ckpt,
      ],
      sink,
    ),
  ).toBe(0);
  return { ckpt, text, pairs };
}

/** Debian's python3-torch (.ci/run installs it), as in test/cli-nanogpt.test.ts. */
function torchPython(): string {
  for (const py of ['python3', '/usr/bin/python3']) if (spawnSync(py, ['-c', 'import numpy, torch'], { stdio: 'ignore' }).status === 0) return py;
  throw new Error("no python3 with numpy and torch: install Debian's python3-torch (apt-get install -y python3-torch), as .ci/run does");
}

const lastNumber = (prefix: string) =>
  Number(
    out
      .filter((l) => l.startsWith(prefix))
      .at(-1)!
      .split(' ')[1],
  );

describe('CLI finetune --lora', () => {
  it('reads the LoRA flags into the run settings, and refuses bad or conflicting ones', () => {
    expect(settingsFromFlags(parseFlags(['--lora', '8']), 'finetune').lora).toEqual({ rank: 8, alpha: 16, targets: 'attn' });
    expect(settingsFromFlags(parseFlags(['--lora', '4', '--lora-alpha', '1', '--lora-targets', 'attn,mlp']), 'finetune').lora).toEqual({
      rank: 4,
      alpha: 1,
      targets: 'attn,mlp',
    });
    expect(settingsFromFlags(parseFlags([]), 'finetune').lora).toBeUndefined();
    expect(() => settingsFromFlags(parseFlags(['--lora', '65']), 'finetune')).toThrow(/--lora must be a whole number ≥ 1 and ≤ 64/);
    expect(() => settingsFromFlags(parseFlags(['--lora', '8', '--lora-targets', 'mlp']), 'finetune')).toThrow(/--lora-targets: unknown LoRA targets "mlp"/);
    expect(() => settingsFromFlags(parseFlags(['--lora-alpha', '8']), 'finetune')).toThrow(/--lora-alpha needs --lora R/);
    expect(() => settingsFromFlags(parseFlags(['--lora', '8', '--freeze', 'top:1']), 'finetune')).toThrow(/--freeze and --discriminative do not apply/);
    expect(() => settingsFromFlags(parseFlags(['--lora', '8', '--export', 'zip']), 'finetune')).toThrow(/--export must be merged or adapter/);
    expect(() => settingsFromFlags(parseFlags(['--lora', '8']), 'pretrain')).toThrow(/--lora is for finetune/);
  });

  it('merged export: a plain nanoGPT file whose PyTorch loss equals ours; the adapter file gives the same model on its base and is refused on another', async () => {
    const { ckpt, text, pairs } = await base();
    const merged = join(dir, 'merged.safetensors');
    const adapter = join(dir, 'adapter.safetensors');
    const common = [
      'finetune',
      '--init',
      ckpt,
      '--pairs',
      pairs,
      '--steps',
      '6',
      '--batch',
      '4',
      '--eval-every',
      '0',
      '--lora',
      '2',
      '--lora-targets',
      'attn,mlp',
    ];
    expect(await main([...common, '--out', merged], sink)).toBe(0);
    expect(out.some((l) => /LoRA rank 2, alpha 4 on attn,mlp: [\d,]+ trainable parameters \([\d.]+ % of the model's/.test(l))).toBe(true);
    expect(await main([...common, '--export', 'adapter', '--out', adapter], sink)).toBe(0);

    // The merged file is an ordinary checkpoint; the adapter file is small and says what it is.
    const c = readCheckpoint(new Uint8Array(readFileSync(merged)));
    expect(c.params.has('transformer.h.0.attn.c_attn.lora_A')).toBe(false);
    const a = readAdapter(new Uint8Array(readFileSync(adapter)));
    expect(a.lora).toEqual({ rank: 2, alpha: 4, targets: 'attn,mlp' });
    expect(readFileSync(adapter).length).toBeLessThan(readFileSync(merged).length / 2);

    out = [];
    expect(await main(['eval', '--ckpt', merged, '--text', text], sink)).toBe(0);
    const mergedLoss = lastNumber('loss');
    out = [];
    expect(await main(['eval', '--ckpt', ckpt, '--adapter', adapter, '--text', text], sink)).toBe(0);
    expect(Math.abs(lastNumber('loss') - mergedLoss)).toBeLessThan(1e-5);
    out = [];
    expect(await main(['eval', '--ckpt', ckpt, '--text', text], sink)).toBe(0);
    expect(lastNumber('loss')).not.toBe(mergedLoss); // the adapters changed the model

    const r = spawnSync(torchPython(), [join(root, 'scripts', 'verify_nanogpt.py'), merged, text], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = Number(/^loss (\S+)$/m.exec(r.stdout)![1]);
    expect(Math.abs(mergedLoss - theirs)).toBeLessThan(1e-5);

    // Another base: one clear error line, exit 1.
    const other = (await base('2')).ckpt;
    err = [];
    expect(await main(['eval', '--ckpt', other, '--adapter', adapter, '--text', text], sink)).toBe(1);
    expect(err.join('\n')).toMatch(/this adapter was trained on another base model/);
    // An adapter file given as a model says what it is.
    err = [];
    expect(await main(['eval', '--ckpt', adapter, '--text', text], sink)).toBe(1);
    expect(err.join('\n')).toMatch(/this is a LoRA adapter file, not a model/);
  });
});
