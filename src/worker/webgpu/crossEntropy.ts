/**
 * Next-token cross-entropy per row in one WebGPU launch each way, where the stock ops (log-softmax,
 * one-hot, product, sum, negation) launch ~10 forward and ~10 backward:
 *
 *   nll_r = −(z_rt − max_r − log Σ_j e^(z_rj − max_r)),   dz_rj = dnll_r · (softmax(z_r)_j − [j = t_r])
 *
 * One workgroup of 64 invocations per row of V logits, meeting in workgroup memory for the row's max and
 * sum. A target outside [0, V) counts as the stock ops count it (its one-hot row is all zeros): loss 0,
 * gradient 0.
 */
import * as tf from '../../engine/tf';
import { FUSED } from '../../engine/ops/fused';
import { i32, program, sizeOf, workgroupSum, type KernelArgs, type WebGPUBackendLike } from './program';

const T = 64;

/** Row max and log-sum-exp into locals `mx`, `lse`; every invocation reaches the barriers. */
const ROW_LSE = `
  var<workgroup> buf : array<f32, ${T}>;
  fn rowMaxSum(base : i32, lane : i32) -> vec2<f32> {
    var m = -3.402823e38;
    for (var j = lane; j < uniforms.V; j = j + ${T}) { m = max(m, Z[base + j]); }
    buf[localIndex] = m;
    workgroupBarrier();
    for (var s = ${T / 2}u; s > 0u; s = s >> 1u) {
      if (localIndex < s) { buf[localIndex] = max(buf[localIndex], buf[localIndex + s]); }
      workgroupBarrier();
    }
    let mx = buf[0];
    workgroupBarrier();
    var acc = 0.0;
    for (var j = lane; j < uniforms.V; j = j + ${T}) { acc = acc + exp(Z[base + j] - mx); }
    buf[localIndex] = acc;
    ${workgroupSum('buf', T)}
    let sum = buf[0];
    workgroupBarrier();
    return vec2<f32>(mx, sum);
  }
`;

const ROW = `
  let rowRaw = index / ${T};
  let row = min(rowRaw, uniforms.N - 1);
  let lane = i32(localIndex);
  let base = row * uniforms.V;
  let ms = rowMaxSum(base, lane);
  let t = Targets[row];
  let valid = t >= 0 && t < uniforms.V;
`;

function dims(logits: tf.TensorInfo, targets: tf.TensorInfo): [number, number] {
  if (logits.shape.length !== 2) throw new Error(`CrossEntropy kernel: logits must be (N, V), got [${logits.shape}]`);
  const [N, V] = logits.shape;
  if (sizeOf(targets.shape) !== N || targets.dtype !== 'int32') throw new Error(`CrossEntropy kernel: targets must be ${N} int32 ids`);
  return [N, V];
}

function crossEntropy(args: KernelArgs): tf.TensorInfo {
  const { logits, targets } = args.inputs;
  const [N, V] = dims(logits, targets);
  const prog = program(
    {
      variableNames: ['Z', 'Targets'],
      outputShape: [N],
      shaderKey: 'SgpCrossEntropy',
      uniforms: 'N : i32, V : i32',
      getUserCode: () => `
        ${ROW_LSE}
        fn main(index : i32) {
          ${ROW}
          if (rowRaw < uniforms.N && lane == 0) {
            if (valid) {
              result[row] = -((Z[base + t] - ms.x) - log(ms.y));
            } else {
              result[row] = 0.0;
            }
          }
        }`,
    },
    N,
    T,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [logits, targets], 'float32', [i32(N), i32(V)]);
}

function crossEntropyGrad(args: KernelArgs): tf.TensorInfo {
  const { logits, targets, dy } = args.inputs;
  const [N, V] = dims(logits, targets);
  if (sizeOf(dy.shape) !== N) throw new Error(`CrossEntropyGrad kernel: dy must have ${N} elements`);
  const prog = program(
    {
      variableNames: ['Z', 'Targets', 'DY'],
      outputShape: [N, V],
      shaderKey: 'SgpCrossEntropyGrad',
      uniforms: 'N : i32, V : i32',
      getUserCode: () => `
        ${ROW_LSE}
        fn main(index : i32) {
          ${ROW}
          if (rowRaw < uniforms.N) {
            let d = DY[row];
            for (var j = lane; j < uniforms.V; j = j + ${T}) {
              let p = exp(Z[base + j] - ms.x) / ms.y;
              result[base + j] = select(0.0, d * (p - select(0.0, 1.0, j == t)), valid);
            }
          }
        }`,
    },
    N,
    T,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [logits, targets, dy], 'float32', [i32(N), i32(V)]);
}

export function registerCrossEntropy(): void {
  tf.registerKernel({ kernelName: FUSED.crossEntropy, backendName: 'webgpu', kernelFunc: crossEntropy as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.crossEntropyGrad, backendName: 'webgpu', kernelFunc: crossEntropyGrad as unknown as tf.KernelFunc });
}
