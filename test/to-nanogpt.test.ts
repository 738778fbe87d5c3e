/**
 * scripts/to_nanogpt.py: an exported model → nanoGPT's ckpt.pt, meta.pkl and train.bin/val.bin. The converted
 * model, loaded from ckpt.pt into the nanoGPT-layout PyTorch model of scripts/verify_nanogpt.py, scores
 * val.bin exactly as the CLI's eval scores the same tenth; nanoGPT's optimizer takes the optimizer state; the
 * vocabulary and the token files round-trip. Needs Debian's python3-torch (as test/cli-nanogpt.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../cli/main';
import type { Sink } from '../cli/sink';
import type { CharTokenizer } from '../src/engine/tokenizer/char';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import { TEXT } from './engine/helpers';
import { tempDir } from './tempDir';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'scripts', 'to_nanogpt.py');

function torchPython(): string {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import numpy, torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  throw new Error("no python3 with numpy and torch: install Debian's python3-torch (apt-get install -y python3-torch), as .ci/run does");
}
const py = torchPython();

let dir: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = tempDir('to-nanogpt-');
  out = [];
  err = [];
});

/** What the CLI writes, kept for the tests: stdout's lines and raw writes in `out`, stderr's lines in `err`. */
const sink: Sink = { out: (line) => void out.push(line), err: (line) => void err.push(line), write: (text) => void out.push(text), tty: false };

/** A 3-step model from the CLI (with biases, F16 on request) and the text it was trained on. */
async function exported(dtype: 'f32' | 'f16' = 'f32'): Promise<{ model: string; text: string }> {
  const text = join(dir, 'corpus.txt');
  writeFileSync(text, TEXT);
  const model = join(dir, 'm.safetensors');
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
        '--bias',
        '--steps',
        '3',
        '--batch',
        '2',
        '--eval-every',
        '0',
        '--out',
        model,
      ],
      sink,
    ),
  ).toBe(0);
  if (dtype === 'f32') return { model, text };
  const f16 = join(dir, 'm16.safetensors');
  expect(await main(['convert', '--ckpt', model, '--out', f16, '--dtype', 'f16'], sink)).toBe(0);
  return { model: f16, text };
}

function convert(...args: string[]) {
  return spawnSync(py, [script, ...args], { encoding: 'utf8' });
}

/** Reads a converted folder back in PyTorch, as nanoGPT's train.py and sample.py would, and reports it as JSON. */
const READER = `
import json, math, os, pickle, sys
import numpy as np, torch, torch.nn.functional as F
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[2])
from verify_nanogpt import GPT
folder = sys.argv[1]
ckpt = torch.load(os.path.join(folder, "ckpt.pt"), map_location="cpu")
state = dict(ckpt["model"])
masks = [k for k in list(state) if k.endswith(".attn.bias")]
for k in masks:
    state.pop(k)
args = ckpt["model_args"]
model = GPT(args)
model.load_state_dict(state, strict=True)
model.eval()
# nanoGPT's configure_optimizers: AdamW, weights of >= 2 dims decay, the rest not; train.py loads the saved state.
params = [p for _, p in model.named_parameters()]
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95))
opt.load_state_dict(ckpt["optimizer"])
val = np.fromfile(os.path.join(folder, "val.bin"), dtype=np.uint16).astype(np.int64)
train = np.fromfile(os.path.join(folder, "train.bin"), dtype=np.uint16).astype(np.int64)
T = args["block_size"]
n = (len(val) - 1) // T
x = torch.tensor(np.stack([val[i * T : i * T + T] for i in range(n)]))
y = torch.tensor(np.stack([val[i * T + 1 : i * T + T + 1] for i in range(n)]))
with torch.no_grad():
    loss = F.cross_entropy(model(x).view(-1, args["vocab_size"]), y.view(-1)).item()
# One training step, as train.py's loop takes it: the loaded optimizer state must be complete.
model.train()
F.cross_entropy(model(x[:2]).view(-1, args["vocab_size"]), y[:2].view(-1)).backward()
opt.step()
meta = pickle.load(open(os.path.join(folder, "meta.pkl"), "rb"))
print(json.dumps({
    "loss": loss, "model_args": args, "iter_num": ckpt["iter_num"], "best_val_loss": float(ckpt["best_val_loss"]),
    "dataset": ckpt["config"]["dataset"], "masks": len(masks), "old_torch": not hasattr(F, "scaled_dot_product_attention"),
    "tied": ckpt["model"]["lm_head.weight"].equal(ckpt["model"]["transformer.wte.weight"]),
    "groups": [len(g["params"]) for g in ckpt["optimizer"]["param_groups"]],
    "meta": {"vocab_size": meta["vocab_size"], "itos": [meta["itos"][i] for i in range(len(meta["itos"]))], "stoi": meta["stoi"]},
    "train": train.tolist(), "val": val.tolist(),
}))
`;

function readBack(folder: string) {
  const reader = join(dir, 'reader.py');
  writeFileSync(reader, READER);
  const r = spawnSync(py, [reader, folder, join(root, 'scripts')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    loss: number;
    model_args: Record<string, unknown>;
    iter_num: number;
    best_val_loss: number;
    dataset: string;
    masks: number;
    old_torch: boolean;
    tied: boolean;
    groups: number[];
    meta: { vocab_size: number; itos: string[]; stoi: Record<string, number> };
    train: number[];
    val: number[];
  };
}

describe('scripts/to_nanogpt.py', () => {
  it.each(['f32', 'f16'] as const)(
    '%s: ckpt.pt scores val.bin as the CLI scores the held-out tenth (1e-5); meta.pkl and the token files round-trip',
    async (dtype) => {
      const { model, text } = await exported(dtype);
      const folder = join(dir, 'out');
      const r = convert(model, folder, '--data', text, '--dataset', 'mine');
      expect(r.status, r.stderr).toBe(0);
      expect(await main(['eval', '--ckpt', model, '--text', text, '--split', 'val'], sink)).toBe(0);
      const ours = Number(out[out.length - 1].split(' ')[1]);

      const got = readBack(folder);
      expect(Math.abs(got.loss - ours)).toBeLessThan(1e-5);
      const ckpt = readCheckpoint(new Uint8Array(readFileSync(model)));
      expect(got.model_args).toEqual({
        n_layer: 2,
        n_head: ckpt.config.nHead,
        n_embd: 16,
        block_size: 16,
        bias: true,
        vocab_size: ckpt.config.vocabSize,
        dropout: ckpt.config.dropout,
      });
      expect([got.iter_num, got.dataset, got.tied]).toEqual([3, 'mine', true]);
      // nanoGPT's groups: wte, wpe and 4 matrices a block decay; every LayerNorm weight and bias and Linear bias do not.
      expect(got.groups).toEqual([2 + 4 * 2, 2 * (2 * 2 + 4) + 2]);
      // The mask buffers are there exactly where nanoGPT's model has them (PyTorch < 2.0), one per block.
      expect(got.masks).toBe(got.old_torch ? 2 : 0);

      expect(got.meta.itos).toEqual((ckpt.tokenizer as CharTokenizer).itos);
      expect(got.meta.vocab_size).toBe(ckpt.tokenizer.vocabSize);
      expect(Object.entries(got.meta.stoi).every(([c, i]) => got.meta.itos[i] === c)).toBe(true);
      expect(Object.keys(got.meta.stoi)).toHaveLength(got.meta.itos.length);
      // 90/10 by characters, then encoded: the files decode back to the text.
      const chars = [...TEXT];
      const n = Math.floor(chars.length * 0.9);
      expect(ckpt.tokenizer.decode(got.train)).toBe(chars.slice(0, n).join(''));
      expect(ckpt.tokenizer.decode(got.val)).toBe(chars.slice(n).join(''));
    },
  );

  it('characters outside the vocabulary: refused by default (nothing written), or mapped to the unknown token, or dropped', async () => {
    const { model } = await exported();
    const odd = join(dir, 'odd.txt');
    writeFileSync(odd, TEXT + '§§ ✓');
    const refused = convert(model, join(dir, 'refused'), '--data', odd);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/error: 3 character\(s\) of the text are not in the model's vocabulary \('§' x2, '✓' x1\); pass --unknown map/);
    expect(existsSync(join(dir, 'refused'))).toBe(false);

    const tok = readCheckpoint(new Uint8Array(readFileSync(model))).tokenizer;
    const length = (folder: string) => readFileSync(join(folder, 'train.bin')).length / 2 + readFileSync(join(folder, 'val.bin')).length / 2;
    for (const [mode, expected] of [
      ['map', [...TEXT].length + 4],
      ['drop', [...TEXT].length + 1],
    ] as const) {
      const folder = join(dir, mode);
      const r = convert(model, folder, '--data', odd, '--unknown', mode);
      expect(r.status, r.stderr).toBe(0);
      expect(length(folder)).toBe(expected);
      const val = new Uint16Array(new Uint8Array(readFileSync(join(folder, 'val.bin'))).buffer);
      const tail = tok.decode(Array.from(val.slice(mode === 'map' ? -4 : -1)));
      expect(tail).toBe(mode === 'map' ? '\uFFFD\uFFFD \uFFFD' : ' ');
    }
  });

  it('a file that is not an exported model is refused with the reason', () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not a model');
    const r = convert(bad, join(dir, 'x'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad\.safetensors is not a readable \.safetensors file/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
