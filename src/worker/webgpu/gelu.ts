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

/** One thread per element: `result[index] = <expr>` over inputs read as `v` (= X[index]) and, for the gradient, DY. */
function elementwise(args: KernelArgs, shaderKey: string, names: string[], expr: string): tf.TensorInfo {
  const x = args.inputs.x;
  const prog = program(
    {
      variableNames: names,
      outputShape: x.shape,
      shaderKey,
      size: true,
      getUserCode: () => `
        ${CDF}
        fn main(index : i32) {
          if (index < uniforms.size) {
            let v = X[index];
            result[index] = ${expr};
          }
        }`,
    },
    Math.ceil(sizeOf(x.shape) / 64),
    64,
  );
  const inputs = names.map((n) => (n === 'X' ? x : args.inputs.dy));
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32');
}

/** x·Φ(x). */
const gelu = (args: KernelArgs) => elementwise(args, 'SgpGelu', ['X'], 'v * cdf(v)');

/** dy·(Φ(x) + x·φ(x)). */
const geluGrad = (args: KernelArgs) =>
  elementwise(args, 'SgpGeluGrad', ['X', 'DY'], `DY[index] * (cdf(v) + v * exp(v * v * -0.5) * ${1 / Math.sqrt(2 * Math.PI)})`);

export function registerGelu(): void {
  tf.registerKernel({ kernelName: FUSED.gelu, backendName: 'webgpu', kernelFunc: gelu as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.geluGrad, backendName: 'webgpu', kernelFunc: geluGrad as unknown as tf.KernelFunc });
}
