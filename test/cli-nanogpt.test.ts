/**
 * The README's nanoGPT loader (torch and numpy only, no safetensors package) is the one in
 * scripts/verify_nanogpt.py, and it reads the CLI's F32 and F16 files exactly. The reading is checked with
 * numpy and a stand-in for torch (torch.from_numpy is all the loader uses), and the full PyTorch comparison
 * with Debian's python3-torch (installed by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import type { Sink } from '../cli/sink';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import type { CharTokenizer } from '../src/engine/tokenizer/char';
import { TEXT } from './engine/helpers';
import { tempDir } from './tempDir';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The text of `def load_safetensors` up to the first blank line, from the README's Python block or the script. */
function loaderIn(text: string): string {
  const start = text.indexOf('def load_safetensors(path):');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end);
}

/** The first python3 that imports all of `modules`, or null. */
function pythonWith(...modules: string[]): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Debian's python3-numpy and python3-torch (.ci/run installs them): the checks below need both. */
function need(py: string | null, what: string): string {
  if (!py) throw new Error(`no python3 with ${what}: install Debian's python3-torch (apt-get install -y python3-torch), as .ci/run does`);
  return py;
}
const numpyPython = pythonWith('numpy');
const torchPython = pythonWith('numpy', 'torch');

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = tempDir('cli-nanogpt-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

/** An F32 checkpoint from the CLI, its F16 conversion, and the text it was trained on. */
async function checkpoints(): Promise<{ f32: string; f16: string; text: string }> {
  const text = join(dir, 'corpus.txt');
  writeFileSync(text, TEXT);
  const f32 = join(dir, 'm.safetensors');
  const f16 = join(dir, 'm16.safetensors');
  expect(
    await main(
      [
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
        '2',
        '--steps',
        '3',
        '--batch',
        '2',
        '--eval-every',
        '0',
        '--out',
        f32,
      ],
      sink,
    ),
  ).toBe(0);
  expect(await main(['convert', '--ckpt', f32, '--out', f16, '--dtype', 'f16'], sink)).toBe(0);
  return { f32, f16, text };
}

describe('nanoGPT loader', () => {
  it("the README's load_safetensors is scripts/verify_nanogpt.py's, and needs no safetensors package", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use your model in nanoGPT'));
    const python = section.slice(section.indexOf('```python'), section.indexOf('```\n', section.indexOf('```python') + 9));
    expect(python).not.toMatch(/safetensors import|import safetensors/);
    expect(loaderIn(python)).toBe(loaderIn(readFileSync(join(root, 'scripts', 'verify_nanogpt.py'), 'utf8')));
  });

  it('reads F32 and F16 files to exactly the values and metadata the engine reads', async () => {
    const { f32, f16 } = await checkpoints();
    const driver = join(dir, 'driver.py');
    writeFileSync(
      driver,
      [
        'import json, struct, sys, types',
        'import numpy as np',
        'torch = types.ModuleType("torch"); torch.from_numpy = lambda a: a  # all the loader asks of torch',
        readFileSync(join(root, 'scripts', 'verify_nanogpt.py'), 'utf8').match(/def load_safetensors[\s\S]*?\n\n/)![0],
        'state, meta = load_safetensors(sys.argv[1])',
        'print(json.dumps({"meta": meta, "state": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.reshape(-1).tolist()} for k, v in state.items()}}))',
      ].join('\n'),
    );
    for (const file of [f32, f16]) {
      const r = spawnSync(need(numpyPython, 'numpy'), [driver, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as { meta: Record<string, string>; state: Record<string, { dtype: string; shape: number[]; values: number[] }> };
      const c = readCheckpoint(new Uint8Array(readFileSync(file)));
      expect(JSON.parse(got.meta.itos)).toEqual((c.tokenizer as CharTokenizer).itos);
      expect(JSON.parse(got.meta.model_args)).toMatchObject({ n_layer: 2, n_embd: 16, block_size: 16, vocab_size: c.config.vocabSize });
      // The file holds nanoGPT's tied lm_head.weight too: the token embedding again.
      expect(Object.keys(got.state).sort()).toEqual([...c.params.keys(), 'lm_head.weight'].sort());
      expect(got.state['lm_head.weight'].values).toEqual(got.state['transformer.wte.weight'].values);
      for (const [name, t] of c.params) {
        expect(got.state[name].dtype, name).toBe('float32');
        expect(got.state[name].shape, name).toEqual(t.shape);
        expect(got.state[name].values, name).toEqual(Array.from(t.data));
      }
    }
  });

  it("scripts/verify_nanogpt.py's PyTorch loss equals the CLI's eval loss, F32 and F16", async () => {
    const { f32, f16, text } = await checkpoints();
    for (const file of [f32, f16]) {
      out = [];
      expect(await main(['eval', '--ckpt', file, '--text', text], sink)).toBe(0);
      const ours = Number(out[out.length - 1].split(' ')[1]);
      const r = spawnSync(need(torchPython, 'torch'), [join(root, 'scripts', 'verify_nanogpt.py'), file, text], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const theirs = Number(/^loss (\S+)$/m.exec(r.stdout)![1]);
      expect(Math.abs(ours - theirs)).toBeLessThan(1e-5);
    }
  });
});
