/**
 * The small part of TF.js's WebGPU program API our fused kernels use, typed here so that no module but
 * src/worker/backend.ts imports a backend package.
 *
 * A program is WGSL `getUserCode()` with a `fn main(index : i32)`; TF.js wraps it with the bindings
 * (`result`, the output, read-write; one read-only storage array per name in `variableNames`, in order),
 * a `uniforms` struct (each input's and the output's shape, `size` when asked for, then the program's own
 * `uniforms` fields), and `_start`, which calls main with the flat invocation index. Programs are compiled
 * once per `shaderKey` + input ranks and dtypes and cached by the backend.
 */
import type * as tf from '../../engine/tf';

export interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Adds `size : i32` (the output's element count) to the uniforms. */
  size?: boolean;
  /** Extra uniform fields, WGSL struct syntax ("lr : f32, n : i32"), filled in order by the call's uniforms. */
  uniforms?: string;
  getUserCode(): string;
}

export interface Uniform {
  type: 'float32' | 'int32';
  data: number[];
}

export interface WebGPUBackendLike {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
}

/** Kernel function arguments as TF.js passes them. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

export const f32 = (x: number): Uniform => ({ type: 'float32', data: [x] });
export const i32 = (x: number): Uniform => ({ type: 'int32', data: [x] });

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A program with `workgroups` groups of `threads` invocations in a row (x only). */
export function program(p: Omit<Program, 'dispatchLayout' | 'dispatch' | 'workgroupSize'>, workgroups: number, threads: number): Program {
  return { ...p, dispatchLayout: { x: [0] }, dispatch: [Math.max(1, workgroups), 1, 1], workgroupSize: [threads, 1, 1] };
}

/**
 * WGSL helpers shared by the programs. `finite` reads the bits: WGSL lets a compiler assume floats are
 * never NaN or infinite, so `x == x`-style tests may be folded away; a bit test cannot.
 */
export const WGSL_COMMON = `
  fn finite(x : f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
  }
`;

/**
 * A tree sum of `buf[0..n)` over the workgroup (n a power of two = the workgroup size), left in buf[0].
 * Every invocation must reach it (it holds barriers); `lane` is local_invocation_index.
 */
export function workgroupSum(buf: string, n: number): string {
  return `
    workgroupBarrier();
    for (var s = ${n / 2}u; s > 0u; s = s >> 1u) {
      if (localIndex < s) {
        ${buf}[localIndex] = ${buf}[localIndex] + ${buf}[localIndex + s];
      }
      workgroupBarrier();
    }
  `;
}
