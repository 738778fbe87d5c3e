/**
 * Attention's heads on WebGPU: (B, T, 3C) → q, k, v, each (B, nh, T, hs), one launch per output (the stock
 * ops: a slice and a transpose per output), and the inverse, the gradient, in one launch (the stock ops: a
 * transpose per input and a concat).
 *
 *   q[b, h, t, i] = qkv[b, t, 0·C + h·hs + i],  k: 1·C + …,  v: 2·C + …
 */
import * as tf from '../../engine/tf';
import { FUSED } from '../../engine/ops/fused';
import { i32, program, sizeOf, type KernelArgs, type WebGPUBackendLike } from './program';

const THREADS = 64;

/** One output of the split: part 0 (q), 1 (k) or 2 (v). */
function part(backend: WebGPUBackendLike, qkv: tf.TensorInfo, B: number, T: number, nh: number, hs: number, which: number): tf.TensorInfo {
  const shape = [B, nh, T, hs];
  const prog = program(
    {
      variableNames: ['QKV'],
      outputShape: shape,
      shaderKey: 'SgpSplitHeads',
      size: true,
      uniforms: 'T : i32, nh : i32, hs : i32, part : i32',
      getUserCode: () => `
        fn main(index : i32) {
          if (index < uniforms.size) {
            let i = index % uniforms.hs;
            let t = (index / uniforms.hs) % uniforms.T;
            let h = (index / (uniforms.hs * uniforms.T)) % uniforms.nh;
            let b = index / (uniforms.hs * uniforms.T * uniforms.nh);
            let C = uniforms.nh * uniforms.hs;
            result[index] = QKV[(b * uniforms.T + t) * 3 * C + uniforms.part * C + h * uniforms.hs + i];
          }
        }`,
    },
    Math.ceil(sizeOf(shape) / THREADS),
    THREADS,
  );
  return backend.runWebGPUProgram(prog, [qkv], 'float32', [i32(T), i32(nh), i32(hs), i32(which)]);
}

function splitHeads(args: KernelArgs): tf.TensorInfo[] {
  const { qkv } = args.inputs;
  const nh = Number(args.attrs?.nHead);
  if (qkv.shape.length !== 3 || qkv.shape[2] % (3 * nh) !== 0) throw new Error(`SplitHeads: [${qkv.shape}] is not (B, T, 3C) with C a multiple of ${nh} heads`);
  const [B, T, C3] = qkv.shape;
  const backend = args.backend as WebGPUBackendLike;
  return [0, 1, 2].map((which) => part(backend, qkv, B, T, nh, C3 / 3 / nh, which));
}

function mergeHeads(args: KernelArgs): tf.TensorInfo {
  const { q, k, v } = args.inputs;
  const [B, nh, T, hs] = q.shape;
  const shape = [B, T, 3 * nh * hs];
  const prog = program(
    {
      variableNames: ['Q', 'K', 'V'],
      outputShape: shape,
      shaderKey: 'SgpMergeHeads',
      size: true,
      uniforms: 'T : i32, nh : i32, hs : i32',
      getUserCode: () => `
        fn main(index : i32) {
          if (index < uniforms.size) {
            let C = uniforms.nh * uniforms.hs;
            let c3 = index % (3 * C);
            let bt = index / (3 * C);
            let which = c3 / C;
            let h = (c3 % C) / uniforms.hs;
            let i = c3 % uniforms.hs;
            let j = (((bt / uniforms.T) * uniforms.nh + h) * uniforms.T + bt % uniforms.T) * uniforms.hs + i;
            if (which == 0) {
              result[index] = Q[j];
            } else if (which == 1) {
              result[index] = K[j];
            } else {
              result[index] = V[j];
            }
          }
        }`,
    },
    Math.ceil(sizeOf(shape) / THREADS),
    THREADS,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, [q, k, v], 'float32', [i32(T), i32(nh), i32(hs)]);
}

export function registerHeads(): void {
  tf.registerKernel({ kernelName: FUSED.splitHeads, backendName: 'webgpu', kernelFunc: splitHeads as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.mergeHeads, backendName: 'webgpu', kernelFunc: mergeHeads as unknown as tf.KernelFunc });
}
