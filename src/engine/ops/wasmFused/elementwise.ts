/**
 * TF.js's Add, AddN and Multiply on the wasm backend, where every input is float32 of one shape, as SIMD kernels
 * (kernels/elementwise.wat) that go through the kernel threads' queue with the engine's other kernels.
 *
 * Why: with kernel threads, the engine's kernels return as soon as their work is queued, and the thread that
 * queued them goes on with TF.js's bookkeeping while the helpers compute (ops/kernelThreads.ts). Any of TF.js's
 * own kernels first waits for that queue to empty, so each one stops the overlap; a training step's residual
 * additions and the tape's sums of gradients are most of those stops (~25 a step of the lesson's model). The
 * values are TF.js's own: the same IEEE sum or product per element (AddN in its order, left to right).
 * Only where kernel threads run (elsewhere TF.js's kernels are as fast and nothing is queued).
 */
import * as tf from '../../tf';
import { WASM_BASE64 } from '../kernels/elementwise.wasm';
import { WasmKernelModule, heapOffset, queueStockKernel, splitRange, type WasmBackendLike, type WasmKernelArgs } from '../wasmKernels';

interface ElementwiseExports {
  add(a: number, b: number, y: number, n: number): void;
  mul(a: number, b: number, y: number, n: number): void;
}

const simd = new WasmKernelModule<ElementwiseExports>(WASM_BASE64);

/** Elements per part below which a call stays on one thread (~0.3 ns each). */
const MIN_PART = 65_536;

/** Whether the inputs are float32 tensors of one shape (no broadcasting). */
function sameShapeFloats(xs: tf.TensorInfo[]): boolean {
  return xs.length > 0 && xs.every((x) => x.dtype === 'float32' && tf.util.arraysEqual(x.shape, xs[0].shape));
}

/** y = a op b over n elements, split over the kernel threads in runs of whole blocks of 4. */
export function elementwise(be: WasmBackendLike, fn: 'add' | 'mul', a: number, b: number, y: number, n: number): void {
  simd.run(
    be,
    fn,
    splitRange(n, simd.parts(be), MIN_PART, 4).map(([i0, i1]) => [a + 4 * i0, b + 4 * i0, y + 4 * i0, i1 - i0]),
  );
}

function binary(fn: 'add' | 'mul') {
  return ({ inputs, backend: be }: WasmKernelArgs): tf.TensorInfo | null => {
    const { a, b } = inputs;
    if (!a || !b || !sameShapeFloats([a, b]) || !simd.on(be)) return null;
    const y = be.makeOutput(a.shape, 'float32'); // a's shape
    elementwise(be, fn, heapOffset(be, a), heapOffset(be, b), heapOffset(be, y), tf.util.sizeFromShape(a.shape));
    return y;
  };
}

/** x0 + x1 + … left to right, as TF.js's AddN: the first sum into y, then each next input added into y. */
function addN({ inputs, backend: be }: WasmKernelArgs): tf.TensorInfo | null {
  const xs = Object.keys(inputs)
    .sort((p, q) => Number(p) - Number(q))
    .map((k) => inputs[k]);
  if (xs.length < 2 || !sameShapeFloats(xs) || !simd.on(be)) return null;
  const n = tf.util.sizeFromShape(xs[0].shape);
  const y = be.makeOutput(xs[0].shape, 'float32'); // the inputs' shape
  const Y = heapOffset(be, y);
  elementwise(be, 'add', heapOffset(be, xs[0]), heapOffset(be, xs[1]), Y, n);
  for (const x of xs.slice(2)) elementwise(be, 'add', Y, heapOffset(be, x), Y, n);
  return y;
}

queueStockKernel(tf.Add, binary('add'));
queueStockKernel(tf.Multiply, binary('mul'));
queueStockKernel(tf.AddN, addN);
