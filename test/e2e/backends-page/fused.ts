/**
 * The fused programs' checks: each fused op against the stock ops it replaces, on the active backend,
 * from the same random inputs (forward values and gradients). Used by main.ts (the test page).
 */
import * as tf from '../../../src/engine/tf';
import { setFusedKernels } from '../../../src/engine/ops/fused';
import { sumOfSquares } from '../../../src/engine/ops/sum';
import { crossEntropyRows, gelu, layerNorm } from '../../../src/engine/model/layers';
import { maskedSoftmax, splitHeads } from '../../../src/engine/model/attention';
import { AdamW, StepGuard } from '../../../src/engine/train/adamw';
import { createRng } from '../../../src/engine/random';

/** One compared quantity: the fused programs' result against the stock ops' on the same backend. */
export interface FusedDiff {
  name: string;
  /** max |fused − stock| */
  maxAbs: number;
  /** max |stock|, for scale */
  refMax: number;
  /** Elements compared (a guard against comparing empty arrays). */
  size: number;
  /** Whether the two are bit-identical (for the NaN guard: nothing may change). */
  identical: boolean;
}

function diff(name: string, fused: ArrayLike<number>, stock: ArrayLike<number>): FusedDiff {
  if (fused.length !== stock.length) throw new Error(`${name}: ${fused.length} vs ${stock.length} elements`);
  let maxAbs = 0;
  let refMax = 0;
  let identical = true;
  for (let i = 0; i < stock.length; i++) {
    const d = Math.abs(fused[i] - stock[i]);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    refMax = Math.max(refMax, Math.abs(stock[i]));
    if (!Object.is(fused[i], stock[i])) identical = false;
  }
  return { name, maxAbs, refMax, size: stock.length, identical };
}

/** Run `f` with the fused programs on, then off (the stock ops), on the active backend; values read back. */
async function both<T>(f: () => Promise<T>): Promise<{ fused: T; stock: T }> {
  try {
    setFusedKernels(true);
    const fused = await f();
    setFusedKernels(false);
    const stock = await f();
    return { fused, stock };
  } finally {
    setFusedKernels(true);
  }
}

const randn = (rng: ReturnType<typeof createRng>, shape: number[], scale = 1) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale),
    shape,
  );

/** LayerNorm forward and its gradients (x, weight, bias), random inputs, odd widths. */
export async function fusedLayerNorm(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [shape, withBias] of [
    [[3, 5, 37], true],
    [[2, 7, 130], false],
    [[1, 1, 1], true],
    [[4, 200], true],
  ] as [number[], boolean][]) {
    const rng = createRng(shape.reduce((a, b) => a * 31 + b, 7));
    const C = shape[shape.length - 1];
    const x = tf.tidy(() => randn(rng, shape, 2).add(0.5));
    const w = tf.tidy(() => randn(rng, [C]).add(1));
    const b = randn(rng, [C], 0.3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => {
        const inputs = withBias ? [x, w, b] : [x, w];
        const f = (...t: tf.Tensor[]) => layerNorm(t[0], t[1], t[2]);
        return [
          f(...inputs),
          ...tf.grads((...t: tf.Tensor[]) =>
            f(...t)
              .mul(dy)
              .sum(),
          )(inputs),
        ];
      });
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    const names = ['y', 'dx', 'dweight', 'dbias'];
    fused.forEach((v, i) => out.push(diff(`layerNorm [${shape}]${withBias ? ' bias' : ''} ${names[i]}`, v, stock[i])));
    tf.dispose([x, w, b, dy]);
  }
  return out;
}

/**
 * Causal softmax forward and gradient, with attention's 1/√hs scale folded in (and without): training
 * (T = S) and sampling with a cache (S = P + T).
 */
export async function fusedSoftmax(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [shape, scale] of [
    [[2, 3, 7, 7], 1 / Math.sqrt(32)],
    [[1, 2, 5, 9], 1],
    [[3, 1, 1, 1], 0.5],
    [[1, 1, 65, 65], 1 / Math.sqrt(16)],
  ] as [number[], number][]) {
    const rng = createRng(shape.reduce((a, b) => a * 17 + b, 3));
    const [T, S] = shape.slice(-2);
    const maskValues = new Float32Array(T * S);
    for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) maskValues[i * S + j] = j <= i + S - T ? 0 : -1e9;
    const mask = tf.tensor2d(maskValues, [T, S]);
    const s = randn(rng, shape, 3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => {
        const y = maskedSoftmax(s, mask, scale);
        const [ds] = tf.grads((xs: tf.Tensor) => maskedSoftmax(xs, mask, scale).mul(dy).sum())([s]);
        return [y, ds];
      });
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(
      diff(`softmax [${shape}] ×${scale.toFixed(3)} y`, fused[0], stock[0]),
      diff(`softmax [${shape}] ×${scale.toFixed(3)} dscores`, fused[1], stock[1]),
    );
    tf.dispose([mask, s, dy]);
  }
  return out;
}

/** GELU forward and gradient, wide range of inputs (erf's tails), odd sizes. */
export async function fusedGelu(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const shape of [[3, 5, 37], [1], [2, 257]]) {
    const rng = createRng(shape.length * 101 + shape[0]);
    const x = randn(rng, shape, 3);
    const dy = randn(rng, shape);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => [gelu(x), ...tf.grads((xs: tf.Tensor) => gelu(xs).mul(dy).sum())([x])]);
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(diff(`gelu [${shape}] y`, fused[0], stock[0]), diff(`gelu [${shape}] dx`, fused[1], stock[1]));
    tf.dispose([x, dy]);
  }
  return out;
}

/** Cross-entropy per row and its gradient: odd row counts and vocabularies (one smaller than a workgroup, one several times larger). */
export async function fusedCrossEntropy(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [N, V] of [
    [37, 65],
    [5, 301],
    [1, 2],
  ]) {
    const rng = createRng(N * 1000 + V);
    const z = randn(rng, [N, V], 4);
    const t = tf.tensor1d(
      Int32Array.from({ length: N }, () => rng.int(V)),
      'int32',
    );
    const dy = randn(rng, [N]);
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => [
        crossEntropyRows(z as tf.Tensor2D, t),
        ...tf.grads((zs: tf.Tensor) =>
          crossEntropyRows(zs as tf.Tensor2D, t)
            .mul(dy)
            .sum(),
        )([z]),
      ]);
      const values = await Promise.all(ys.map((x) => x.data()));
      tf.dispose(ys);
      return values;
    });
    out.push(diff(`crossEntropy [${N}, ${V}] nll`, fused[0], stock[0]), diff(`crossEntropy [${N}, ${V}] dlogits`, fused[1], stock[1]));
    tf.dispose([z, t, dy]);
  }
  return out;
}

/** Attention's head split (q, k, v) and its gradient (the merge), odd sizes: pure copies, so equal exactly. */
export async function fusedHeads(): Promise<FusedDiff[]> {
  const out: FusedDiff[] = [];
  for (const [B, T, nh, hs] of [
    [2, 5, 3, 4],
    [1, 64, 4, 32],
    [3, 1, 1, 7],
  ]) {
    const rng = createRng(B * 1000 + T * 10 + nh);
    const qkv = randn(rng, [B, T, 3 * nh * hs]);
    const dys = [0, 1, 2].map(() => randn(rng, [B, nh, T, hs]));
    const { fused, stock } = await both(async () => {
      const ys = tf.tidy(() => [
        ...splitHeads(qkv as tf.Tensor3D, nh),
        ...tf.grads((x: tf.Tensor) => tf.addN(splitHeads(x as tf.Tensor3D, nh).map((p, i) => p.mul(dys[i]).sum())))([qkv]),
      ]);
      const values = await Promise.all(ys.map((t) => t.data()));
      tf.dispose(ys);
      return values;
    });
    ['q', 'k', 'v', 'dqkv'].forEach((name, i) => out.push(diff(`heads [${B}, ${T}, ${nh}, ${hs}] ${name}`, fused[i], stock[i])));
    tf.dispose([qkv, ...dys]);
  }
  return out;
}

const ADAM_SHAPES = [[37, 19], [130], [1], [5, 3], [64, 3], [300], [2, 2, 7], [129]];

/**
 * AdamW: three steps of one group of 8 parameters (more than one launch's inputs, so the running sums
 * carry), then a step whose loss is NaN (must change nothing). Compares parameters, moments, the update's
 * squared norm and the gradient norm each step. clip 1 with gradients of norm > 1, so clipping acts.
 */
export async function fusedAdamW(): Promise<FusedDiff[]> {
  type Run = {
    params: Float32Array[];
    norms: number[];
    gradNorms: number[];
    moments: Float32Array[];
    beforeNaN: Float32Array[];
    afterNaN: Float32Array[];
    nanNorm: number;
    momentsAfterNaN: Float32Array[];
  };
  const { fused, stock } = await both(async (): Promise<Run> => {
    const rng = createRng(11);
    const params = ADAM_SHAPES.map((shape, i) => tf.tidy(() => tf.variable(randn(rng, shape, 0.5), true, `adam-test-${i}-${Math.random()}`)));
    const opt = new AdamW();
    const norms: number[] = [];
    const gradNorms: number[] = [];
    const step = async (loss: number, lr: number) => {
      const grads = ADAM_SHAPES.map((shape) => randn(rng, shape, 0.3));
      const [norm, gradNorm] = tf.tidy(() => {
        const gn = sumOfSquares(grads).sqrt() as tf.Scalar;
        const guard = new StepGuard(tf.scalar(loss), gn, 1);
        const norm = opt.step(
          params.map((param, i) => ({ name: `p${i}`, param, grad: grads[i] })),
          lr,
          guard,
        );
        guard.dispose();
        return [norm, gn];
      });
      const values = [(await norm.data())[0], (await gradNorm.data())[0]];
      tf.dispose([norm, gradNorm, ...grads]);
      return values;
    };
    for (const lr of [1e-2, 3e-3, 1e-2]) {
      const [n, g] = await step(2.5, lr);
      norms.push(n);
      gradNorms.push(g);
    }
    const read = () => Promise.all(params.map(async (p) => (await p.data()) as Float32Array));
    const momentsOf = async () => [...(await opt.save()).values()].flatMap((s) => [s.m, s.v]);
    const beforeNaN = await read();
    const moments = await momentsOf();
    const [nanNorm] = await step(NaN, 1e-2);
    const afterNaN = await read();
    const momentsAfterNaN = await momentsOf();
    opt.dispose();
    tf.dispose(params);
    return { params: beforeNaN, norms, gradNorms, moments, beforeNaN, afterNaN, nanNorm, momentsAfterNaN };
  });
  const out: FusedDiff[] = [];
  fused.params.forEach((p, i) => out.push(diff(`adamw param [${ADAM_SHAPES[i]}]`, p, stock.params[i])));
  fused.moments.forEach((m, i) => out.push(diff(`adamw ${i % 2 ? 'v' : 'm'} [${ADAM_SHAPES[i >> 1]}]`, m, stock.moments[i])));
  out.push(diff('adamw update norm² per step', fused.norms, stock.norms));
  out.push(diff('gradient norm per step', fused.gradNorms, stock.gradNorms));
  // The NaN step: the fused run's own parameters and moments stay bit-identical, and its norm is 0.
  fused.afterNaN.forEach((p, i) => out.push(diff(`NaN step leaves param [${ADAM_SHAPES[i]}]`, p, fused.beforeNaN[i])));
  fused.momentsAfterNaN.forEach((m, i) => out.push(diff(`NaN step leaves moment ${i}`, m, fused.moments[i])));
  out.push(diff('NaN step update norm²', [fused.nanNorm], [0]));
  return out;
}
