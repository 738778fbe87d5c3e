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
  setKernelOverlap,
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

  it("TF.js's Add, AddN and Multiply of one shape run queued, with TF.js's own values (any length; broadcasting stays TF.js's)", () => {
    const run = (f: () => tf.Tensor) => {
      let out: Float32Array = new Float32Array();
      const split = splitCalls(() => tf.tidy(() => void (out = f().dataSync() as Float32Array)));
      return { out, split };
    };
    for (const n of [1, 5, 131_075]) {
      const [a, b, c] = [1, 2, 3].map((k) => tf.tensor1d(randoms([n], n + k)));
      const ops: Array<[string, () => tf.Tensor]> = [
        ['add', () => tf.add(a, b)],
        ['mul', () => tf.mul(a, b)],
        ['addN', () => tf.addN([a, b, c, a])],
      ];
      for (const [name, f] of ops) {
        setKernelOverlap(false); // TF.js's kernels
        const want = run(f).out;
        setKernelOverlap(true);
        const got = run(f);
        expect(Array.from(got.out), `${name} over ${n}`).toEqual(Array.from(want));
        if (n > 100_000) expect(got.split, `${name} over ${n} split`).toBeGreaterThan(0);
      }
      tf.dispose([a, b, c]);
    }
    const sum = tf.tidy(() => Array.from(tf.add(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor1d([10, 20, 30])).dataSync()));
    expect(sum).toEqual([11, 22, 33, 14, 25, 36]);
  });

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

/** A kernel thread pool of two on a fresh shared memory, running one module made of `funcs` (WebAssembly text). */
async function watPool(funcs: string): Promise<{ memory: WebAssembly.Memory; exports: WebAssembly.Exports; pool: KernelThreads }> {
  const api = await wabt();
  const wat = api.parseWat('test.wat', `(module (import "env" "memory" (memory 1 65536 shared)) ${funcs})`, { threads: true });
  const bytes = Uint8Array.from(wat.toBinary({}).buffer);
  wat.destroy();
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  return { memory, exports, pool: await KernelThreads.start(memory, [bytes], 2, spawnNodeKernelThread) };
}

describe('the kernel thread pool', () => {
  it('runs every part once, whichever thread claims it; a part that traps is an error, not a hang, and the pool keeps working', async () => {
    // A module that counts to `work`, then stores a float at an address: a part with an address past the heap traps.
    const { memory, exports, pool } = await watPool(
      `(func (export "store") (param $p i32) (param $v f32) (param $work i32)
        (block $done (loop $count (br_if $done (i32.eqz (local.get $work))) (local.set $work (i32.sub (local.get $work) (i32.const 1))) (br $count)))
        (f32.store (local.get $p) (local.get $v)))`,
    );
    const store = exports.store as (p: number, v: number, work: number) => void;
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
    const { memory, exports, pool } = await watPool(
      `(func (export "add") (param $p i32) (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.const 1))))`,
    );
    const add = exports.add as (p: number) => void;
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

  it('runs queued jobs in the order queued, each after the one before it is done, while the caller goes on', async () => {
    // A module that sets x ← x·m + a at an address (after counting to `work`): the result depends on the order
    // of the updates, so a job run early, late, twice or at once with the one before it shows in the sum.
    const { memory, exports, pool } = await watPool(
      `(func (export "axpb") (param $p i32) (param $m f32) (param $a f32) (param $work i32)
        (block $done (loop $count (br_if $done (i32.eqz (local.get $work))) (local.set $work (i32.sub (local.get $work) (i32.const 1))) (br $count)))
        (f32.store (local.get $p) (f32.add (f32.mul (f32.load (local.get $p)) (local.get $m)) (local.get $a))))`,
    );
    const axpb = exports.axpb as (p: number, m: number, a: number, work: number) => void;
    try {
      const heap = new Float32Array(memory.buffer);
      heap.fill(0, 0, 8);
      const want = new Float32Array(8);
      // A long first job: the call returns while it is still running (it is queued, not done).
      pool.enqueue(0, [[0, 1, 1, 50_000_000]], (args) => axpb(args[0], args[1], args[2], args[3]));
      expect(pool.busy).toBe(true);
      want[0] = 1;
      // Then 5,000 jobs of 1 to 8 parts back to back (more than the ring holds: the caller helps when it is full),
      // each part updating its own address with the job's own factors.
      for (let job = 0; job < 5_000; job++) {
        const m = 1 - (job % 7) / 16;
        const a = (job % 5) - 2;
        const parts = Array.from({ length: 1 + (job % 8) }, (_, i) => [4 * i, m, a, job % 3 ? 0 : 2_000]);
        pool.enqueue(0, parts, (args) => axpb(args[0], args[1], args[2], args[3]));
        for (let i = 0; i < parts.length; i++) want[i] = Math.fround(Math.fround(want[i] * m) + a);
      }
      pool.drain();
      expect(pool.busy).toBe(false);
      expect(Array.from(heap.slice(0, 8))).toEqual(Array.from(want));
    } finally {
      pool.stop();
    }
  }, 120_000);

  it('puts off a free until the jobs queued before it are done, and frees in order', async () => {
    const { exports, pool } = await watPool(
      `(func (export "spin") (param $work i32)
        (block $done (loop $count (br_if $done (i32.eqz (local.get $work))) (local.set $work (i32.sub (local.get $work) (i32.const 1))) (br $count))))`,
    );
    const spin = exports.spin as (work: number) => void;
    try {
      const freed: number[] = [];
      const release = (address: number) => void freed.push(address);
      pool.free(16, release); // nothing queued: at once
      expect(freed).toEqual([16]);
      pool.enqueue(0, [[50_000_000]], (args) => spin(args[0]));
      pool.free(32, release);
      pool.free(48, release);
      expect(freed).toEqual([16]); // the job before them may still use that memory
      pool.drain();
      expect(freed).toEqual([16, 32, 48]);
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
