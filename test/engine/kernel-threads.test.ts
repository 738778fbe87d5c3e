/**
 * The engine's kernels on TF.js's threaded wasm build, split over two kernel threads: each against the stock
 * ops on the cpu backend (values and gradients), with fused multiply-add and without, and each checked to have
 * actually run in parts on a helper thread. Also the thread pool's own contract (a helper that traps is an
 * error, not a hang) and a few training steps against the single-threaded build.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wabt from 'wabt';
import * as tf from '../../src/engine/tf';
import { bmm } from '../../src/engine/ops/bmm';
import { crossEntropyRows, crossEntropyRowsReference, gelu, layerNorm, layerNormReference, geluReference } from '../../src/engine/model/layers';
import { maskedSoftmax, maskedSoftmaxReference, causalMask } from '../../src/engine/model/attention';
import { KernelThreads } from '../../src/engine/ops/kernelThreads';
import {
  memoryOf,
  relaxedSimdSupported,
  setWasmFma,
  splitRange,
  wasmFmaActive,
  wasmKernelThreads,
  type WasmBackendLike,
} from '../../src/engine/ops/wasmKernels';
import { PRESETS } from '../../src/engine/model/config';
import { GPT } from '../../src/engine/model/gpt';
import { Trainer } from '../../src/engine/train/trainer';
import { corpusSource } from '../../src/engine/data/sources';
import { createRng } from '../../src/engine/random';
import { spawnNodeKernelThread } from '../../cli/wasmThreads';
import { useNodeBackend } from '../backends';
import { maxErr, randoms, valueAndGrads } from './numerics';
import { splitCalls } from './helpers';

const THREADS = 2;
const wasm = () => useNodeBackend('wasm', { threads: THREADS });

beforeAll(wasm);
afterAll(async () => {
  setWasmFma(true);
  await useNodeBackend('wasm');
});

/** Reference on the cpu backend's stock ops, then the kernels on two threads: the split calls they made and their results. */
async function compare(
  kernel: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  shapes: number[][],
  seed: number,
): Promise<{ want: Float32Array[]; got: Float32Array[]; split: number }> {
  const inputs = shapes.map((s, i) => randoms(s, seed + i));
  await useNodeBackend('cpu');
  const outShape = tf.tidy(() => reference(...inputs.map((v, i) => tf.tensor(v, shapes[i]))).shape);
  const dy = randoms(outShape, seed + 99);
  const want = valueAndGrads(reference, inputs, shapes, dy);
  await wasm();
  expect(wasmKernelThreads()).toBe(THREADS);
  let got: Float32Array[] = [];
  const before = tf.memory().numTensors;
  const split = splitCalls(() => (got = valueAndGrads(kernel, inputs, shapes, dy)));
  expect(tf.memory().numTensors).toBe(before);
  return { want, got, split };
}

describe('kernel threads on the threaded wasm build', () => {
  it('start on a shared heap, in Node too', async () => {
    expect(wasmKernelThreads()).toBe(THREADS);
    expect(memoryOf(tf.backend() as unknown as WasmBackendLike)?.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  for (const fma of [true, false]) {
    describe(fma ? 'with fused multiply-add' : 'plain SIMD', () => {
      beforeAll(() => {
        setWasmFma(fma);
        // Node 20 has relaxed SIMD behind a flag that cli/backend.ts sets: the fused variant really runs.
        expect(wasmFmaActive()).toBe(fma && relaxedSimdSupported());
      });

      it.each([
        // batch split (attention's heads); column and row splits (linear layers: every transpose, rows not a
        // multiple of 4, columns not a multiple of 8)
        ['batch', [4, 64, 96], [4, 96, 64], false, false],
        ['batch, Bᵀ', [6, 64, 64], [6, 64, 64], false, true],
        ['columns, Bᵀ', [301, 131], [45, 131], false, true],
        ['columns, Aᵀ with fewer rows than columns', [131, 45], [131, 301], true, false],
        ['rows, Aᵀ', [131, 301], [131, 45], true, false],
        ['rows, Aᵀ Bᵀ', [131, 301], [45, 131], true, true],
        // one row per batch entry (sampling with a key/value cache): q·kᵀ and weights·v
        ['batch, one row, Bᵀ', [512, 1, 32], [512, 77, 32], false, true],
        ['batch, one row', [512, 1, 77], [512, 77, 32], false, false],
      ] as const)('bmm (%s) matches matMul, values and gradients', async (_, sa, sb, tA, tB) => {
        const { want, got, split } = await compare(
          (a, b) => bmm(a, b, tA, tB),
          (a, b) => tf.matMul(a, b, tA, tB),
          [[...sa], [...sb]],
          sa[0],
        );
        expect(split).toBeGreaterThanOrEqual(3); // forward and both gradients (valueAndGrads runs forward twice)
        ['y', 'da', 'db'].forEach((n, i) => expect(maxErr(got[i], want[i]), n).toBeLessThan(1e-4));
      });

      it('GELU matches the stock ops over 100,003 elements', async () => {
        const { want, got, split } = await compare(
          (x) => gelu(x),
          (x) => geluReference(x),
          [[100_003]],
          5,
        );
        expect(split).toBe(2); // forward twice (valueAndGrads); backward is one multiply by the saved slope
        expect(maxErr(got[0], want[0]), 'y').toBeLessThan(1e-5);
        expect(maxErr(got[1], want[1]), 'dx').toBeLessThan(1e-5);
      });

      it('LayerNorm matches the stock ops over 600 rows, y, dx, dw, db', async () => {
        const { want, got, split } = await compare(
          (x, w, b) => layerNorm(x, w, b),
          (x, w, b) => layerNormReference(x, w, b),
          [[600, 128], [128], [128]],
          6,
        );
        expect(split).toBe(3); // forward twice (valueAndGrads), dx backward (the statistics are the forward's)
        ['y', 'dx', 'dw', 'db'].forEach((n, i) => expect(maxErr(got[i], want[i]), n).toBeLessThan(1e-5));
      });

      it('the cross-entropy matches the stock ops over 300 rows of a 513-token vocabulary, loss rows and gradient', async () => {
        const [N, V] = [300, 513];
        const targets = tf.tidy(
          () =>
            tf
              .tensor1d(
                Int32Array.from({ length: N }, (_, i) => (i * 7919) % V),
                'int32',
              )
              .dataSync() as Int32Array,
        );
        const rows = (f: typeof crossEntropyRows) => (z: tf.Tensor) => f(z as tf.Tensor2D, tf.tensor1d(targets, 'int32'));
        const { want, got, split } = await compare(rows(crossEntropyRows), rows(crossEntropyRowsReference), [[N, V]], 9);
        expect(split).toBe(3); // forward twice (valueAndGrads), backward once
        expect(maxErr(got[0], want[0]), 'loss').toBeLessThan(1e-5);
        expect(maxErr(got[1], want[1]), 'dz').toBeLessThan(1e-6);
      });

      it('the causal softmax matches the stock ops over 4×4 heads of 64×64, y and ds', async () => {
        const mask = [causalMask(64)];
        const { want, got, split } = await compare(
          (s) => maskedSoftmax(s, mask[0], 0.17),
          (s) => maskedSoftmaxReference(s, mask[0], 0.17),
          [[4, 4, 64, 64]],
          7,
        );
        expect(split).toBe(3); // forward twice (valueAndGrads), backward once
        expect(maxErr(got[0], want[0]), 'y').toBeLessThan(1e-6);
        expect(maxErr(got[1], want[1]), 'ds').toBeLessThan(1e-6);
        tf.dispose(mask);
      });

      it('the causal softmax over odd key counts (3 queries over 77 keys, 1,032 rows) matches the stock ops, y and ds', async () => {
        const full = causalMask(77);
        const mask = full.slice([74, 0], [3, 77]) as tf.Tensor2D; // the last 3 positions' rows
        const { want, got, split } = await compare(
          (s) => maskedSoftmax(s, mask, 0.17),
          (s) => maskedSoftmaxReference(s, mask, 0.17),
          [[86, 4, 3, 77]],
          8,
        );
        expect(split).toBe(3); // forward twice (valueAndGrads), backward once: 77 keys, the last one a tail
        expect(maxErr(got[0], want[0]), 'y').toBeLessThan(1e-6);
        expect(maxErr(got[1], want[1]), 'ds').toBeLessThan(1e-6);
        tf.dispose([full, mask]);
      });
    });
  }

  it('trains as the single-threaded build does: the same losses over a few steps of baby', async () => {
    const losses = async (threads: number) => {
      await useNodeBackend('wasm', { threads });
      const config = { ...PRESETS.baby, vocabSize: 65, dropout: 0 };
      const rng = createRng(3);
      const ids = Int32Array.from({ length: 5_000 }, () => rng.int(65));
      const model = GPT.create(config, 1);
      const trainer = new Trainer(model, { seed: 1 });
      const out: number[] = [];
      await trainer.run(
        { steps: 4, batchSize: 4, schedule: { kind: 'constant', lr: 1e-3 }, train: corpusSource(ids, config.blockSize), logEvery: 1 },
        { onStep: (s) => void out.push(s.loss) },
      );
      trainer.dispose();
      model.dispose();
      return out;
    };
    const one = await losses(1);
    const two = await losses(THREADS);
    expect(two.length).toBe(4);
    two.forEach((l, i) => expect(Math.abs(l - one[i]), `step ${i}`).toBeLessThan(1e-4));
  }, 120_000);
});

describe('the kernel thread pool', () => {
  it('runs every part once, whichever thread claims it; a part that traps is an error, not a hang, and the pool keeps working', async () => {
    // A module that counts to `work`, then stores a float at an address: a part with an address past the heap traps.
    const api = await wabt();
    const wat = api.parseWat(
      'store.wat',
      `(module (import "env" "memory" (memory 1 65536 shared))
        (func (export "store") (param $p i32) (param $v f32) (param $work i32)
          (block $done (loop $count (br_if $done (i32.eqz (local.get $work))) (local.set $work (i32.sub (local.get $work) (i32.const 1))) (br $count)))
          (f32.store (local.get $p) (local.get $v))))`,
      { threads: true },
    );
    const bytes = Uint8Array.from(wat.toBinary({}).buffer);
    wat.destroy();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
    const store = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.store as (p: number, v: number, work: number) => void;
    const pool = await KernelThreads.start(memory, [bytes], 2, spawnNodeKernelThread);
    try {
      const heap = new Float32Array(memory.buffer);
      let here = 0;
      for (let job = 1; job <= 20; job++) {
        // Eight parts of some work each for two threads: each writes its own slot.
        pool.run(
          0,
          Array.from({ length: 8 }, (_, i) => [4 * i, job * 10 + i, 200_000]),
          (args) => {
            here++;
            store(args[0], args[1], args[2]);
          },
        );
        expect(Array.from(heap.slice(0, 8))).toEqual(Array.from({ length: 8 }, (_, i) => job * 10 + i));
      }
      expect(here).toBeLessThan(160); // the helper took some of the parts
      // The trap surfaces on whichever thread ran the part: as the trap here, or as a failed thread there.
      expect(() =>
        pool.run(
          0,
          [
            [32, 1, 0],
            [1 << 30, 1, 0],
          ],
          (args) => store(args[0], args[1], args[2]),
        ),
      ).toThrow(/kernel thread failed|out of bounds/);
      pool.run(
        0,
        [
          [8, 3.5, 0],
          [12, 4.5, 0],
        ],
        (args) => store(args[0], args[1], args[2]),
      );
      expect([heap[2], heap[3]]).toEqual([3.5, 4.5]);
    } finally {
      pool.stop();
    }
  });

  it('never runs a part twice when one job follows another with more parts (a late helper claims nothing of the next job)', async () => {
    // A module that adds 1 to the float at an address: a part run twice leaves 2 there.
    const api = await wabt();
    const wat = api.parseWat(
      'add.wat',
      `(module (import "env" "memory" (memory 1 65536 shared))
        (func (export "add") (param $p i32)
          (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.const 1)))))`,
      { threads: true },
    );
    const bytes = Uint8Array.from(wat.toBinary({}).buffer);
    wat.destroy();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
    const add = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.add as (p: number) => void;
    const pool = await KernelThreads.start(memory, [bytes], 2, spawnNodeKernelThread);
    try {
      const heap = new Float32Array(memory.buffer);
      // Jobs of 1, 2 … 8 parts in turn, back to back: a helper still finishing one job's claims while the next
      // is written is the moment a stale claim could take a part of the next job. Slot i counts the runs of
      // part i over all the jobs.
      const jobs = 100_000;
      const parts = Array.from({ length: 8 }, (_, j) => Array.from({ length: j + 1 }, (_, i) => [4 * i]));
      heap.fill(0, 0, 8);
      for (let job = 0; job < jobs; job++) pool.run(0, parts[job % 8], (args) => add(args[0]));
      const want = Array.from({ length: 8 }, (_, i) => (jobs / 8) * (8 - i));
      expect(Array.from(heap.slice(0, 8))).toEqual(want);
    } finally {
      pool.stop();
    }
  }, 120_000);

  it('splits ranges on whole units, never into parts smaller than asked', () => {
    expect(splitRange(10, 2, 1)).toEqual([
      [0, 5],
      [5, 10],
    ]);
    expect(splitRange(10, 4, 4)).toEqual([
      [0, 5],
      [5, 10],
    ]); // 10 / 4 → 2 parts at most
    expect(splitRange(10, 2, 100)).toEqual([[0, 10]]);
    expect(splitRange(301, 2, 1, 4)).toEqual([
      [0, 152],
      [152, 301],
    ]);
    expect(splitRange(256, 3, 1, 64)).toEqual([
      [0, 64],
      [64, 128],
      [128, 256],
    ]);
  });
});
