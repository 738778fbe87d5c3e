/**
 * LayerNorm over the last axis in one WebGPU launch forward and three backward (four with a bias), where
 * the stock ops launch ~10 and ~20. Formulas as src/engine/model/layers.ts (biased variance, PyTorch's):
 *
 *   μ = mean(x),  r = 1/√(mean((x − μ)²) + eps),  x̂ = (x − μ)·r,  y = x̂·w (+ b)
 *   dx = r · (g − mean(g) − x̂·mean(g·x̂)),  g = dy·w
 *   dw = Σ_rows dy·x̂,  db = Σ_rows dy
 *
 * Rows (N = every axis but the last) go one per workgroup of 64 invocations that stride over the C
 * columns and meet in workgroup memory for the row sums.
 */
import * as tf from '../../engine/tf';
import { FUSED } from '../../engine/ops/fused';
import { f32, i32, program, sizeOf, workgroupSum, type KernelArgs, type WebGPUBackendLike } from './program';

const T = 64;

function rowsOf(x: tf.TensorInfo): [number, number] {
  const C = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || C === 0) throw new Error(`LayerNorm kernel: input of shape [${x.shape}] has no last axis`);
  return [sizeOf(x.shape) / C, C];
}

/** Row statistics into locals `mean` and `rstd`; `base` is the row's first index. All invocations reach it. */
const ROW_STATS = `
  var acc = 0.0;
  for (var c = lane; c < uniforms.C; c = c + ${T}) { acc = acc + X[base + c]; }
  buf[localIndex] = acc;
  ${workgroupSum('buf', T)}
  let mean = buf[0] / f32(uniforms.C);
  workgroupBarrier();
  var acc2 = 0.0;
  for (var c = lane; c < uniforms.C; c = c + ${T}) { let d = X[base + c] - mean; acc2 = acc2 + d * d; }
  buf[localIndex] = acc2;
  ${workgroupSum('buf', T)}
  let rstd = inverseSqrt(buf[0] / f32(uniforms.C) + uniforms.eps);
  workgroupBarrier();
`;

/** Preamble: the row of this workgroup (clamped: no early return, every invocation reaches the barriers). */
const ROW = `
  var<workgroup> buf : array<f32, ${T}>;
  var<workgroup> buf2 : array<f32, ${T}>;
`;
const ROW_INDEX = `
  let rowRaw = index / ${T};
  let row = min(rowRaw, uniforms.N - 1);
  let lane = i32(localIndex);
  let base = row * uniforms.C;
`;

function layerNorm(args: KernelArgs): tf.TensorInfo {
  const { x, weight, bias } = args.inputs;
  const eps = Number(args.attrs?.eps ?? 1e-5);
  const [N, C] = rowsOf(x);
  if (sizeOf(weight.shape) !== C || (bias && sizeOf(bias.shape) !== C)) throw new Error(`LayerNorm kernel: weight/bias must have ${C} elements`);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const prog = program(
    {
      variableNames: bias ? ['X', 'W', 'B'] : ['X', 'W'],
      outputShape: x.shape,
      shaderKey: `SgpLayerNorm${bias ? 'B' : ''}`,
      uniforms: 'N : i32, C : i32, eps : f32',
      getUserCode: () => `
        ${ROW}
        fn main(index : i32) {
          ${ROW_INDEX}
          ${ROW_STATS}
          if (rowRaw < uniforms.N) {
            for (var c = lane; c < uniforms.C; c = c + ${T}) {
              result[base + c] = ((X[base + c] - mean) * rstd) * W[c]${bias ? ' + B[c]' : ''};
            }
          }
        }`,
    },
    N,
    T,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', [i32(N), i32(C), f32(eps)]);
}

/** (N, 2): each row's mean and 1/σ, for the parameter gradients. */
function layerNormStats(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const eps = Number(args.attrs?.eps ?? 1e-5);
  const [N, C] = rowsOf(x);
  const prog = program(
    {
      variableNames: ['X'],
      outputShape: [N, 2],
      shaderKey: 'SgpLayerNormStats',
      uniforms: 'N : i32, C : i32, eps : f32',
      getUserCode: () => `
        ${ROW}
        fn main(index : i32) {
          ${ROW_INDEX}
          ${ROW_STATS}
          if (rowRaw < uniforms.N && lane == 0) {
            result[2 * row] = mean;
            result[2 * row + 1] = rstd;
          }
        }`,
    },
    N,
    T,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [x], 'float32', [i32(N), i32(C), f32(eps)]);
}

/** dx from x, w, dy and the row statistics. */
function layerNormGradX(args: KernelArgs): tf.TensorInfo {
  const { x, weight, dy, stats } = args.inputs;
  const [N, C] = rowsOf(x);
  const prog = program(
    {
      variableNames: ['X', 'W', 'DY', 'S'],
      outputShape: x.shape,
      shaderKey: 'SgpLayerNormGradX',
      uniforms: 'N : i32, C : i32',
      getUserCode: () => `
        ${ROW}
        fn main(index : i32) {
          ${ROW_INDEX}
          let mean = S[2 * row];
          let rstd = S[2 * row + 1];
          var sg = 0.0;
          var sgx = 0.0;
          for (var c = lane; c < uniforms.C; c = c + ${T}) {
            let g = DY[base + c] * W[c];
            sg = sg + g;
            sgx = sgx + g * ((X[base + c] - mean) * rstd);
          }
          buf[localIndex] = sg;
          buf2[localIndex] = sgx;
          workgroupBarrier();
          for (var s = ${T / 2}u; s > 0u; s = s >> 1u) {
            if (localIndex < s) {
              buf[localIndex] = buf[localIndex] + buf[localIndex + s];
              buf2[localIndex] = buf2[localIndex] + buf2[localIndex + s];
            }
            workgroupBarrier();
          }
          let meanG = buf[0] / f32(uniforms.C);
          let meanGX = buf2[0] / f32(uniforms.C);
          if (rowRaw < uniforms.N) {
            for (var c = lane; c < uniforms.C; c = c + ${T}) {
              let g = DY[base + c] * W[c];
              let xhat = (X[base + c] - mean) * rstd;
              result[base + c] = rstd * (g - meanG - xhat * meanGX);
            }
          }
        }`,
    },
    N,
    T,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [x, weight, dy, stats], 'float32', [i32(N), i32(C)]);
}

/** Column sums over the rows: Σ dy·x̂ (what = 'weight') or Σ dy (what = 'bias'); one workgroup per column. */
function layerNormGradParam(args: KernelArgs): tf.TensorInfo {
  const { x, dy, stats } = args.inputs;
  const weight = args.attrs?.what !== 'bias';
  const [N, C] = rowsOf(x);
  const prog = program(
    {
      variableNames: weight ? ['X', 'DY', 'S'] : ['DY'],
      outputShape: [C],
      shaderKey: `SgpLayerNormGrad${weight ? 'W' : 'B'}`,
      uniforms: 'N : i32, C : i32',
      getUserCode: () => `
        var<workgroup> buf : array<f32, ${T}>;
        fn main(index : i32) {
          let colRaw = index / ${T};
          let col = min(colRaw, uniforms.C - 1);
          var acc = 0.0;
          for (var r = i32(localIndex); r < uniforms.N; r = r + ${T}) {
            let i = r * uniforms.C + col;
            ${weight ? 'acc = acc + DY[i] * ((X[i] - S[2 * r]) * S[2 * r + 1]);' : 'acc = acc + DY[i];'}
          }
          buf[localIndex] = acc;
          ${workgroupSum('buf', T)}
          if (localIndex == 0u && colRaw < uniforms.C) {
            result[col] = buf[0];
          }
        }`,
    },
    C,
    T,
  );
  const inputs = weight ? [x, dy, stats] : [dy];
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', [i32(N), i32(C)]);
}

export function registerLayerNorm(): void {
  const kernels: [string, (a: KernelArgs) => tf.TensorInfo][] = [
    [FUSED.layerNorm, layerNorm],
    [FUSED.layerNormStats, layerNormStats],
    [FUSED.layerNormGradX, layerNormGradX],
    [FUSED.layerNormGradParam, layerNormGradParam],
  ];
  for (const [kernelName, fn] of kernels) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
}
