/**
 * The linear layer's product on the wasm backend as one kernel each way, whatever the rank of x:
 *
 *   y = x·Wᵀ       x (..., in), W (out, in) → (..., out)          SgpLinear
 *   dx = dy·W      dy (..., out) → (..., in)                      SgpLinearGradX
 *   dW = dyᵀ·x     over every row of the leading dimensions → (out, in)   SgpLinearGradW
 *
 * Why: written as bmm on 2-D views, a linear layer is a reshape, the product and a reshape back, each reshape a
 * kernel that the tape also saves an input of (another kernel), and two more reshapes backward: ~7 kernels
 * where this is 1 forward and 2 backward, at ~20 µs of TF.js's bookkeeping each, 17 times a step at the baby
 * size. The rows of x are contiguous in any rank, so the products read them in place (bmm.wat, through strides).
 */
import * as tf from '../tf';
import { bmmKernelActive, runBmm } from './bmm';
import { heapOffset, registerWasm, type WasmKernelArgs } from './wasmKernels';

const FORWARD = 'SgpLinear';
const GRAD_X = 'SgpLinearGradX';
const GRAD_W = 'SgpLinearGradW';

/** Rows (the leading dimensions' product) and width of the last axis. */
function rowsOf(t: tf.TensorInfo): [number, number] {
  const width = t.shape[t.shape.length - 1];
  return [tf.util.sizeFromShape(t.shape) / width, width];
}

registerWasm([
  [
    FORWARD,
    ({ inputs: { x, w }, backend: be }: WasmKernelArgs) => {
      const [rows, K] = rowsOf(x);
      const N = w.shape[0];
      const y = be.makeOutput([...x.shape.slice(0, -1), N], 'float32'); // (..., out)
      // op(A) = x: (rows, in); op(B) = Wᵀ: (in, out), W read in place through its strides
      runBmm(be, { batch: 1, M: rows, N, K, a: heapOffset(be, x), sAi: K, sAk: 1, b: heapOffset(be, w), sBk: 1, sBj: K, c: heapOffset(be, y), tri: 0 });
      return y;
    },
  ],
  [
    GRAD_X,
    ({ inputs: { dy, w }, backend: be }: WasmKernelArgs) => {
      const [rows, N] = rowsOf(dy);
      const K = w.shape[1];
      const dx = be.makeOutput([...dy.shape.slice(0, -1), K], 'float32'); // (..., in)
      // (rows, out)·(out, in)
      runBmm(be, { batch: 1, M: rows, N: K, K: N, a: heapOffset(be, dy), sAi: N, sAk: 1, b: heapOffset(be, w), sBk: K, sBj: 1, c: heapOffset(be, dx), tri: 0 });
      return dx;
    },
  ],
  [
    GRAD_W,
    ({ inputs: { dy, x }, backend: be }: WasmKernelArgs) => {
      const [rows, N] = rowsOf(dy);
      const K = x.shape[x.shape.length - 1];
      const dw = be.makeOutput([N, K], 'float32'); // (out, in)
      // op(A) = dyᵀ: (out, rows), dy read in place; op(B) = x: (rows, in)
      runBmm(be, { batch: 1, M: N, N: K, K: rows, a: heapOffset(be, dy), sAi: 1, sAk: N, b: heapOffset(be, x), sBk: K, sBj: 1, c: heapOffset(be, dw), tri: 0 });
      return dw;
    },
  ],
]);
if (!tf.getGradient(FORWARD)) {
  tf.registerGradient({
    kernelName: FORWARD,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved) => {
      const [x, w] = saved;
      return {
        x: () => tf.engine().runKernel(GRAD_X, { dy: dy as tf.Tensor, w }) as tf.Tensor, // (..., in)
        w: () => tf.engine().runKernel(GRAD_W, { dy: dy as tf.Tensor, x }) as tf.Tensor, // (out, in)
      };
    },
  });
}

/** Whether x·Wᵀ can take the kernel: the SIMD kernel on, float32, W 2-D and as wide as x, nothing empty. */
export function linearKernelFits(x: tf.Tensor, w: tf.Tensor): boolean {
  return (
    x.dtype === 'float32' &&
    w.dtype === 'float32' &&
    x.rank >= 1 &&
    w.rank === 2 &&
    x.shape[x.rank - 1] === w.shape[1] &&
    x.size > 0 &&
    w.size > 0 &&
    bmmKernelActive()
  );
}

/** x·Wᵀ: x (..., in), W (out, in) → (..., out). Only where linearKernelFits. */
export function linearSimd(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(FORWARD, { x, w }) as tf.Tensor;
}
