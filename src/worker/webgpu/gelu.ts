/**
 * Exact GELU, x·Φ(x), in one WebGPU launch each way (the stock ops: five forward, ~ten backward).
 * Φ(x) = ½(1 + erf(x/√2)) with TF.js's own erf (Abramowitz & Stegun 7.1.26, as its Erf kernel), so the
 * result matches the stock ops to float32 round-off.   dx = dy·(Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
 */
import * as tf from '../../engine/tf';
import { FUSED } from '../../engine/ops/fused';
import { program, sizeOf, type KernelArgs, type WebGPUBackendLike } from './program';

const CDF = `
  fn erfApprox(a : f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(a));
    return sign(a) * (1.0 - (((((1.061405429 * t + -1.453152027) * t) + 1.421413741) * t + -0.284496736) * t + 0.254829592) * t * exp(-abs(a) * abs(a)));
  }
  fn cdf(x : f32) -> f32 {
    return (erfApprox(x * ${Math.SQRT1_2}) + 1.0) * 0.5;
  }
`;

function gelu(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const prog = program(
    {
      variableNames: ['X'],
      outputShape: x.shape,
      shaderKey: 'SgpGelu',
      size: true,
      getUserCode: () => `
        ${CDF}
        fn main(index : i32) {
          if (index < uniforms.size) {
            let v = X[index];
            result[index] = v * cdf(v);
          }
        }`,
    },
    Math.ceil(sizeOf(x.shape) / 64),
    64,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [x], 'float32');
}

function geluGrad(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs;
  const prog = program(
    {
      variableNames: ['X', 'DY'],
      outputShape: x.shape,
      shaderKey: 'SgpGeluGrad',
      size: true,
      getUserCode: () => `
        ${CDF}
        fn main(index : i32) {
          if (index < uniforms.size) {
            let v = X[index];
            let pdf = exp(v * v * -0.5) * ${1 / Math.sqrt(2 * Math.PI)};
            result[index] = DY[index] * (cdf(v) + v * pdf);
          }
        }`,
    },
    Math.ceil(sizeOf(x.shape) / 64),
    64,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [x, dy], 'float32');
}

export function registerGelu(): void {
  tf.registerKernel({ kernelName: FUSED.gelu, backendName: 'webgpu', kernelFunc: gelu as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.geluGrad, backendName: 'webgpu', kernelFunc: geluGrad as unknown as tf.KernelFunc });
}
