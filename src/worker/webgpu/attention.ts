/**
 * Causal softmax of attention scores in one WebGPU launch (the stock ops: add the mask, then softmax's
 * own launches), and its gradient in one (the stock ops take ~5).
 *
 * Scores (…, T, S): T queries over S keys, where the queries are the last T of S positions (S = T when
 * training; S = P + T with P cached positions when sampling). Key j is visible to query i iff
 * j ≤ i + S − T; hidden keys get probability exactly 0, as exp(−1e9 − max) underflows to in the stock
 * ops. One invocation per row of S keys (rows = every axis but the last).
 *
 *   y = softmax(scale · s + mask),  ds = scale · y · (dy − Σ_j dy·y)
 */
import * as tf from '../../engine/tf';
import { FUSED } from '../../engine/ops/fused';
import { f32, i32, program, sizeOf, type KernelArgs, type WebGPUBackendLike } from './program';

const THREADS = 64;

function dims(x: tf.TensorInfo, name: string): [number, number, number] {
  if (x.shape.length < 2) throw new Error(`${name}: scores must have at least 2 axes, got [${x.shape}]`);
  const S = x.shape[x.shape.length - 1];
  const T = x.shape[x.shape.length - 2];
  if (T > S) throw new Error(`${name}: ${T} queries over ${S} keys: a causal mask needs T ≤ S`);
  return [sizeOf(x.shape) / S, T, S];
}

function causalSoftmax(args: KernelArgs): tf.TensorInfo {
  const { scores } = args.inputs;
  const scale = Number(args.attrs?.scale ?? 1);
  const [rows, T, S] = dims(scores, 'CausalSoftmax');
  const prog = program(
    {
      variableNames: ['Scores'],
      outputShape: scores.shape,
      shaderKey: 'SgpCausalSoftmax',
      uniforms: 'rows : i32, T : i32, S : i32, scale : f32',
      getUserCode: () => `
        fn main(row : i32) {
          if (row < uniforms.rows) {
            let base = row * uniforms.S;
            let last = row % uniforms.T + uniforms.S - uniforms.T;
            var mx = Scores[base] * uniforms.scale;
            for (var j = 1; j <= last; j = j + 1) { mx = max(mx, Scores[base + j] * uniforms.scale); }
            var sum = 0.0;
            for (var j = 0; j <= last; j = j + 1) { sum = sum + exp(Scores[base + j] * uniforms.scale - mx); }
            for (var j = 0; j < uniforms.S; j = j + 1) {
              if (j <= last) {
                result[base + j] = exp(Scores[base + j] * uniforms.scale - mx) / sum;
              } else {
                result[base + j] = 0.0;
              }
            }
          }
        }`,
    },
    Math.ceil(rows / THREADS),
    THREADS,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [scores], 'float32', [i32(rows), i32(T), i32(S), f32(scale)]);
}

function causalSoftmaxGrad(args: KernelArgs): tf.TensorInfo {
  const { y, dy } = args.inputs;
  const scale = Number(args.attrs?.scale ?? 1);
  const [rows, T, S] = dims(y, 'CausalSoftmaxGrad');
  const prog = program(
    {
      variableNames: ['Y', 'DY'],
      outputShape: y.shape,
      shaderKey: 'SgpCausalSoftmaxGrad',
      uniforms: 'rows : i32, T : i32, S : i32, scale : f32',
      getUserCode: () => `
        fn main(row : i32) {
          if (row < uniforms.rows) {
            let base = row * uniforms.S;
            var acc = 0.0;
            for (var j = 0; j < uniforms.S; j = j + 1) { acc = acc + DY[base + j] * Y[base + j]; }
            for (var j = 0; j < uniforms.S; j = j + 1) {
              result[base + j] = uniforms.scale * (Y[base + j] * (DY[base + j] - acc));
            }
          }
        }`,
    },
    Math.ceil(rows / THREADS),
    THREADS,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [y, dy], 'float32', [i32(rows), i32(T), i32(S), f32(scale)]);
}

export function registerAttention(): void {
  const kernels: [string, (a: KernelArgs) => tf.TensorInfo][] = [
    [FUSED.causalSoftmax, causalSoftmax],
    [FUSED.causalSoftmaxGrad, causalSoftmaxGrad],
  ];
  for (const [kernelName, fn] of kernels) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
}
