/**
 * Batched matrix product op(a) · op(b) over leading batch dimensions, as tf.matMul with
 * transposeA/transposeB, with a fast path on the wasm backend.
 *
 * Why: tfjs-backend-wasm 4.22 sends only 2-D untransposed products to XNNPACK; a batched or transposed
 * one (attention's q·kᵀ and att·v, and all their gradients) runs a scalar C++ loop at ~2.7 GFLOP/s —
 * about a third of a training step at the baby size. Here such products run a SIMD kernel
 * (kernels/bmm.wat, assembled into kernels/bmm.wasm.ts by `npm run build:kernels`) that works in TF.js's
 * own wasm heap: no copies in or out. Every other backend, dtype or shape uses tf.matMul.
 *
 * The gradient is registered for the kernel and is made of bmm calls itself, so the backward pass runs
 * the same fast kernel.
 *
 * Causal attention's products are triangular: a `Tri` says which (see bmm.wat), and the kernel skips the terms
 * and tiles that are zero or unwanted — about half of each. Their gradients are triangular too.
 */
import * as tf from '../tf';
import { WASM_BASE64 } from './kernels/bmm.wasm';
import { WasmKernelModule, heapOffset, registerWasm, type WasmBackendLike, type WasmKernelArgs } from './wasmKernels';

const KERNEL = 'SgpBatchMatMul';

interface BmmExports {
  bmm(
    batch: number,
    M: number,
    N: number,
    K: number,
    a: number,
    sAi: number,
    sAk: number,
    b: number,
    sBk: number,
    sBj: number,
    c: number,
    work: number,
    tri: number,
    /** C's row stride in floats: N, or the whole product's N for a part that computes a range of its columns. */
    ldc: number,
  ): void;
  /** M = 1, A contiguous, and B's columns (sBk = 1) or rows (sBj = 1) contiguous; B's batch stride sBb: see bmm.wat. */
  gemv(batch: number, N: number, K: number, a: number, b: number, sBk: number, sBj: number, c: number, sBb: number): void;
}

/**
 * A triangular product (square T × T where triangular): 0 none; 1 only C's lower triangle is wanted (above it,
 * values or zeros: attention's scores, which the causal softmax reads only there); 2 op(A) is lower-triangular
 * (attention's weights times v); 3 op(A) is upper-triangular (a gradient's transposed weights).
 */
export type Tri = 0 | 1 | 2 | 3;

const kernels = new WasmKernelModule<BmmExports>(WASM_BASE64);

/** Whether bmm runs the SIMD kernel on the active backend. */
export function bmmKernelActive(): boolean {
  return kernels.get() !== null;
}

interface BmmAttrs {
  transposeA: boolean;
  transposeB: boolean;
  tri: Tri;
}

/**
 * Work below this many floating-point operations per part stays on one thread: waking a kernel thread and
 * waiting for it costs microseconds, which a part must outweigh.
 */
const MIN_PART_FLOPS = 1 << 20;

/**
 * The same for a gemv (one row of A), which reads each element of B once for two flops: bound by memory, not
 * arithmetic, so a part of an eighth the flops already outweighs the wake-up (sampling's attention over a
 * key/value cache, at 128 replies of the quiz: 0.90× the time on two threads, in-process A/B).
 */
const MIN_GEMV_PART_FLOPS = MIN_PART_FLOPS / 8;

/** Whether bmm.wat packs B for this product (its test: B row-major, N a multiple of 8, and few rows or a small B). */
const packsB = (p: Pick<Product, 'M' | 'N' | 'K' | 'sBj'>) => !(p.sBj === 1 && p.N % 8 === 0 && (p.M <= 4 || p.K * p.N <= 4096));
/** Whether bmm.wat packs A's row strips (A transposed: its rows adjacent, k a stride apart). */
const packsA = (p: Pick<Product, 'sAi' | 'sAk'>) => p.sAi === 1 && p.sAk !== 1;

export type SplitAxis = 'rows' | 'columns';

/**
 * How a product of one entry is split over threads: by rows of the output (whole tiles of 4) or by its columns
 * (whole panels of 8). Every part packs what it reads of B (and of a transposed A, see bmm.wat): a row part packs
 * all of B, a column part only its panels but every strip of a transposed A. So columns, unless A is packed and
 * larger than B (a weight gradient dyᵀ·x with more outputs than inputs), or nothing is packed (then rows, as
 * before: either way the same reads). Why: sampling's products have few rows (128 replies, one position each) and
 * a whole weight matrix to pack; split by rows, each of two threads packed all of it for half the rows.
 */
export function splitAxis(p: Pick<Product, 'M' | 'N' | 'K' | 'sAi' | 'sAk' | 'sBj'>, threads = 2): SplitAxis {
  const axis = packsA(p) ? (p.M < p.N ? 'columns' : 'rows') : packsB(p) ? 'columns' : 'rows';
  // Too few panels to give every thread one, where rows would: rows (a narrow output, many threads).
  const [panels, tiles] = [Math.ceil(p.N / 8), Math.ceil(p.M / 4)];
  return axis === 'columns' && panels < threads && tiles > panels ? 'rows' : axis;
}

/**
 * How many parts one product splits into with `threads` threads: over the batch where there is one (attention's
 * heads), two per thread; else over the output's rows or columns (splitAxis), one per thread; never parts of
 * under minPartFlops (MIN_PART_FLOPS, or MIN_GEMV_PART_FLOPS for a gemv).
 */
export function bmmPartCount(
  batch: number,
  M: number,
  N: number,
  K: number,
  threads: number,
  tri: Tri = 0,
  minPartFlops = MIN_PART_FLOPS,
  axis: SplitAxis = 'rows',
): number {
  // A triangular product's rows are its own: it is split over the batch only.
  if (threads <= 1 || (tri !== 0 && batch === 1)) return 1;
  const byWork = Math.max(1, Math.floor((2 * batch * M * N * K) / minPartFlops));
  if (batch > 1) return Math.min(2 * threads, batch, byWork);
  return Math.min(threads, axis === 'rows' ? Math.ceil(M / 4) : Math.ceil(N / 8), byWork);
}

/**
 * One product op(A)·op(B) → C in the heap, as bmm.wat takes it: `batch` entries of (M, K)·(K, N); a, b and c are
 * byte offsets; strides in floats, op(A)[i, k] = A[i·sAi + k·sAk] and op(B)[k, j] = B[k·sBk + j·sBj]; C is dense.
 */
export interface Product {
  batch: number;
  M: number;
  N: number;
  K: number;
  a: number;
  sAi: number;
  sAk: number;
  b: number;
  sBk: number;
  sBj: number;
  c: number;
  tri: Tri;
  /**
   * B's batch stride in floats, where B's entries are not dense (K·N apart): the first rows of larger buffers (a
   * key/value cache held in buffers of the whole context). Only for a gemv (M = 1).
   */
  sBb?: number;
}

/**
 * The kernel's calls for one product in `parts` parts: over the batch where there is one, else over the rows of
 * the output in whole tiles of 4 or its columns in whole panels of 8 (`axis`). Each part gets its own scratch
 * (workBytes at work + p·workBytes).
 */
export function bmmParts(p: Product, work: number, workBytes: number, parts: number, axis: SplitAxis): number[][] {
  const { batch, M, N, K, a, sAi, sAk, b, sBk, sBj, c, tri } = p;
  const out: number[][] = [];
  const range = (units: number, unit: number, end: number, q: number) =>
    [unit * Math.floor((units * q) / parts), Math.min(end, unit * Math.floor((units * (q + 1)) / parts))] as const;
  for (let q = 0; q < parts; q++) {
    const w = work + q * workBytes;
    if (batch > 1) {
      const [b0, b1] = [Math.floor((batch * q) / parts), Math.floor((batch * (q + 1)) / parts)];
      out.push([b1 - b0, M, N, K, a + 4 * b0 * M * K, sAi, sAk, b + 4 * b0 * K * N, sBk, sBj, c + 4 * b0 * M * N, w, tri, N]);
    } else if (axis === 'rows') {
      const [i0, i1] = range(Math.ceil(M / 4), 4, M, q);
      out.push([1, i1 - i0, N, K, a + 4 * i0 * sAi, sAi, sAk, b, sBk, sBj, c + 4 * i0 * N, w, tri, N]);
    } else {
      // columns j0..j1 of C (row stride N), from B's columns j0..j1
      const [j0, j1] = range(Math.ceil(N / 8), 8, N, q);
      out.push([1, M, j1 - j0, K, a, sAi, sAk, b + 4 * j0 * sBj, sBk, sBj, c + 4 * j0, w, tri, N]);
    }
  }
  return out;
}

/**
 * One row of A per batch entry (sampling with a key/value cache: q·kᵀ and weights·v for one new position), A
 * contiguous, and B with contiguous columns or rows: bmm.wat's gemv, without tiles of 4 rows or packing.
 */
function gemvFits(p: Product): boolean {
  return p.M === 1 && p.tri === 0 && p.sAk === 1 && (p.sBk === 1 || p.sBj === 1);
}

/** Run a product (see Product), split over the kernel threads, with the scratch each part needs. */
export function runBmm(be: WasmBackendLike, p: Product): void {
  if (!kernels.on(be)) throw new Error('the SIMD batched matmul kernel is not available on this backend');
  if (gemvFits(p)) {
    const { batch, N, K, a, b, sBk, sBj, c } = p;
    const sBb = p.sBb ?? K * N;
    const parts = bmmPartCount(batch, 1, N, K, kernels.threads(be), 0, MIN_GEMV_PART_FLOPS);
    kernels.run(
      be,
      'gemv',
      Array.from({ length: parts }, (_, q) => {
        const [b0, b1] = [Math.floor((batch * q) / parts), Math.floor((batch * (q + 1)) / parts)];
        return [b1 - b0, N, K, a + 4 * b0 * K, b + 4 * b0 * sBb, sBk, sBj, c + 4 * b0 * N, sBb];
      }),
    );
    return;
  }
  if (p.sBb !== undefined && p.sBb !== p.K * p.N) throw new Error('bmm: a batch stride for B is only supported for one row of A (a gemv)');
  // Scratch for packed B, a padded output block and a packed strip of A (see bmm.wat), one per part (sized for
  // the whole product: a part's is no larger).
  const Mp = (p.M + 3) & ~3;
  const Np = (p.N + 7) & ~7;
  const workBytes = 4 * (p.K * Np + Mp * Np + 4 * p.K);
  const threads = kernels.threads(be);
  const axis = splitAxis(p, threads);
  const parts = bmmPartCount(p.batch, p.M, p.N, p.K, threads, p.tri, MIN_PART_FLOPS, axis);
  const work = be.wasm._malloc(workBytes * parts);
  try {
    kernels.run(be, 'bmm', bmmParts(p, work, workBytes, parts, axis));
  } finally {
    be.wasm._free(work);
  }
}

function bmmKernel({ inputs: { a, b }, backend: be, attrs }: WasmKernelArgs): tf.TensorInfo {
  const { transposeA, transposeB, tri } = attrs as unknown as BmmAttrs;
  const r = a.shape.length;
  const batchDims = a.shape.slice(0, -2);
  const batch = batchDims.reduce((p, d) => p * d, 1);
  const [M, K] = transposeA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
  const N = transposeB ? b.shape[r - 2] : b.shape[r - 1];
  const out = be.makeOutput([...batchDims, M, N], 'float32');
  runBmm(be, {
    batch,
    M,
    N,
    K,
    a: heapOffset(be, a),
    sAi: transposeA ? 1 : K,
    sAk: transposeA ? M : 1,
    b: heapOffset(be, b),
    sBk: transposeB ? 1 : N,
    sBj: transposeB ? K : 1,
    c: heapOffset(be, out),
    tri: tri ?? 0,
  });
  return out;
}

registerWasm([[KERNEL, bmmKernel]]);
if (!tf.getGradient(KERNEL)) {
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB, tri } = attrs as unknown as BmmAttrs;
      const g = dy as tf.Tensor;
      // Attention's two triangular products (the only ones with a gradient): scores = q·kᵀ, whose gradient g
      // is lower-triangular too (the causal softmax's is 0 above the diagonal), and weights·v.
      if (tri === 1) return { a: () => bmm(g, b, false, false, 2), b: () => bmm(g, a, true, false, 3) };
      if (tri === 2) return { a: () => bmm(g, b, false, true, 1), b: () => bmm(a, g, true, false, 3) };
      if (tri === 3) throw new Error('bmm: no gradient for an upper-triangular product');
      // The four cases of TF.js's own BatchMatMul gradient, each a product of the same kind.
      if (!transposeA && !transposeB) return { a: () => bmm(g, b, false, true), b: () => bmm(a, g, true, false) };
      if (!transposeA && transposeB) return { a: () => bmm(g, b, false, false), b: () => bmm(g, a, true, false) };
      if (transposeA && !transposeB) return { a: () => bmm(b, g, false, true), b: () => bmm(a, g, false, false) };
      return { a: () => bmm(b, g, true, true), b: () => bmm(g, a, true, true) };
    },
  });
}

/** Same leading (batch) dimensions, rank ≥ 2, float32, matching inner sizes, nothing empty. */
function kernelFits(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): boolean {
  const r = a.rank;
  if (r < 2 || b.rank !== r || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  for (let d = 0; d < r - 2; d++) if (a.shape[d] !== b.shape[d]) return false;
  const K = transposeA ? a.shape[r - 2] : a.shape[r - 1];
  const Kb = transposeB ? b.shape[r - 1] : b.shape[r - 2];
  return K === Kb && a.size > 0 && b.size > 0;
}

/** Whether a triangular product is square where it must be (C for 1, op(A) for 2 and 3); else it is run whole. */
function triFits(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean, tri: Tri): boolean {
  const r = a.rank;
  const M = transposeA ? a.shape[r - 1] : a.shape[r - 2];
  const K = transposeA ? a.shape[r - 2] : a.shape[r - 1];
  const N = transposeB ? b.shape[r - 2] : b.shape[r - 1];
  if (tri === 1) return !transposeA && transposeB && M === N;
  if (tri === 2) return !transposeA && !transposeB && M === K;
  return M === K;
}

/**
 * op(a) · op(b), batched over the leading dimensions: a (..., M, K) or (..., K, M) if transposeA,
 * b (..., K, N) or (..., N, K) if transposeB → (..., M, N). Same result and gradients as tf.matMul.
 * With `tri` (attention's causal products, see Tri) the kernel skips what is zero or unwanted: the wanted
 * entries are the same; with tri 1 an unwanted one is its value or 0 (a skipped tile); gradients as the causal
 * softmax needs them (the weights' gradient given on their lower triangle). Elsewhere the full product.
 */
export function bmm<T extends tf.Tensor>(a: T, b: T, transposeA = false, transposeB = false, tri: Tri = 0): T {
  if (kernelFits(a, b, transposeA, transposeB) && bmmKernelActive()) {
    const attrs: BmmAttrs = { transposeA, transposeB, tri: tri !== 0 && triFits(a, b, transposeA, transposeB, tri) ? tri : 0 };
    return tf.engine().runKernel(KERNEL, { a, b }, attrs as unknown as tf.NamedAttrMap) as T;
  }
  return tf.matMul(a, b, transposeA, transposeB) as T;
}
