/**
 * AdamW in two WebGPU launches per parameter (the stock ops take ~20), plus one launch per six
 * parameters for the update's squared norm. Formulas and guard as src/engine/train/adamw.ts:
 *
 *   ok    = loss, ‖g‖ and loss + ‖g‖ finite and ≤ 3e38          (else nothing changes)
 *   g     = grad · min(1, clip / (‖g‖ + 1e-6))                    (clip > 0)
 *   m     = β1·m + (1 − β1)·g,  v = β2·v + (1 − β2)·g²
 *   p     = p·decay − (m / (√v / √(1 − β2^t) + ε)) · lr / (1 − β1^t)
 *
 * The moments live in one packed vector per parameter, `[partials (64) | m0 v0 m1 v1 …]`. Program 1
 * writes the new parameter; program 2 recomputes the same arithmetic and writes the new moments and, in
 * the head, one partial Σ(p_new − p)² per workgroup. Hyper-parameters are uniforms (written with the
 * launch), so a step uploads no new tensors; the guard is read from the loss and the norm on the device.
 */
import * as tf from '../../engine/tf';
import { FUSED, MAX_FUSED_INPUTS, STATE_HEAD } from '../../engine/ops/fused';
import { f32, i32, program, sizeOf, WGSL_COMMON, workgroupSum, type KernelArgs, type Uniform, type WebGPUBackendLike } from './program';

const HYPER = 'beta1 : f32, beta2 : f32, oneMinusBeta1 : f32, oneMinusBeta2 : f32, eps : f32, stepSize : f32, sqrtBc2 : f32, decay : f32, clip : f32';
const STATE_THREADS = 256;

function hyper(attrs: Record<string, unknown>): Uniform[] {
  const names = ['beta1', 'beta2', 'oneMinusBeta1', 'oneMinusBeta2', 'eps', 'stepSize', 'sqrtBc2', 'decay', 'clip'];
  return names.map((k) => {
    const x = attrs[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`AdamW kernel: attribute ${k} must be a finite number, got ${String(x)}`);
    return f32(x);
  });
}

/** The shared arithmetic: for element i, sets `ok`, `pOld`, `pNew`, `mNew`, `vNew`. */
const STEP = `
  ${WGSL_COMMON}
  fn guardOk() -> bool {
    let l = Loss[0];
    let n = GradNorm[0];
    let s = l + n;
    return finite(l) && finite(n) && finite(s) && s <= 3e38;
  }
  fn clipScale() -> f32 {
    if (uniforms.clip > 0.0) {
      return min(1.0, uniforms.clip / (GradNorm[0] + 1e-6));
    }
    return 1.0;
  }
  struct Step { pNew : f32, m : f32, v : f32 };
  fn adamw(i : i32, scale : f32) -> Step {
    let g = Grad[i] * scale;
    let m = State[${STATE_HEAD} + 2 * i] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
    let v = State[${STATE_HEAD} + 2 * i + 1] * uniforms.beta2 + (g * g) * uniforms.oneMinusBeta2;
    let denom = sqrt(v) / uniforms.sqrtBc2 + uniforms.eps;
    let pNew = Param[i] * uniforms.decay - (m / denom) * uniforms.stepSize;
    return Step(pNew, m, v);
  }
`;

const VARS = ['Param', 'Grad', 'State', 'Loss', 'GradNorm'];

function inputsOf(args: KernelArgs): tf.TensorInfo[] {
  const { param, grad, state, loss, gradNorm } = args.inputs;
  const n = sizeOf(param.shape);
  if (sizeOf(grad.shape) !== n) throw new Error(`AdamW kernel: gradient has ${sizeOf(grad.shape)} elements, parameter ${n}`);
  if (sizeOf(state.shape) !== STATE_HEAD + 2 * n) throw new Error(`AdamW kernel: state has ${sizeOf(state.shape)} elements, expected ${STATE_HEAD + 2 * n}`);
  for (const t of [param, grad, state, loss, gradNorm]) if (t.dtype !== 'float32') throw new Error(`AdamW kernel: inputs must be float32, got ${t.dtype}`);
  return [param, grad, state, loss, gradNorm];
}

function adamwParam(args: KernelArgs): tf.TensorInfo {
  const inputs = inputsOf(args);
  const shape = inputs[0].shape;
  const n = sizeOf(shape);
  const prog = program(
    {
      variableNames: VARS,
      outputShape: shape,
      shaderKey: 'SgpAdamWParam',
      size: true,
      uniforms: HYPER,
      getUserCode: () => `
        ${STEP}
        fn main(index : i32) {
          if (index < uniforms.size) {
            let s = adamw(index, clipScale());
            result[index] = select(Param[index], s.pNew, guardOk());
          }
        }`,
    },
    Math.ceil(n / 64),
    64,
  );
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', hyper(args.attrs ?? {}));
}

function adamwState(args: KernelArgs): tf.TensorInfo {
  const inputs = inputsOf(args);
  const n = sizeOf(inputs[0].shape);
  // One workgroup per head slot; each strides over the parameter, so any size fits the same launch.
  const prog = program(
    {
      variableNames: VARS,
      outputShape: [STATE_HEAD + 2 * n],
      shaderKey: 'SgpAdamWState',
      uniforms: `${HYPER}, n : i32`,
      getUserCode: () => `
        ${STEP}
        var<workgroup> partial : array<f32, ${STATE_THREADS}>;
        fn main(index : i32) {
          let group = index / ${STATE_THREADS};
          let ok = guardOk();
          let scale = clipScale();
          var acc = 0.0;
          for (var i = index; i < uniforms.n; i = i + ${STATE_HEAD * STATE_THREADS}) {
            let s = adamw(i, scale);
            if (ok) {
              result[${STATE_HEAD} + 2 * i] = s.m;
              result[${STATE_HEAD} + 2 * i + 1] = s.v;
              let d = s.pNew - Param[i];
              acc = acc + d * d;
            } else {
              result[${STATE_HEAD} + 2 * i] = State[${STATE_HEAD} + 2 * i];
              result[${STATE_HEAD} + 2 * i + 1] = State[${STATE_HEAD} + 2 * i + 1];
            }
          }
          partial[localIndex] = acc;
          ${workgroupSum('partial', STATE_THREADS)}
          if (localIndex == 0u) {
            result[group] = partial[0];
          }
        }`,
    },
    STATE_HEAD,
    STATE_THREADS,
  );
  const uniforms = [...hyper(args.attrs ?? {}), i32(n)];
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', uniforms);
}

const HEAD_THREADS = 64;

/** Σ of the first STATE_HEAD elements of each input (all of a shorter one, e.g. a carried running sum). */
function sumHeads(args: KernelArgs): tf.TensorInfo {
  const inputs = Object.keys(args.inputs)
    .sort()
    .map((k) => args.inputs[k]);
  if (inputs.length === 0 || inputs.length > MAX_FUSED_INPUTS) throw new Error(`SumHeads: 1 to ${MAX_FUSED_INPUTS} inputs, got ${inputs.length}`);
  const names = inputs.map((_, k) => `X${k}`);
  const prog = program(
    {
      variableNames: names,
      outputShape: [],
      shaderKey: `SgpSumHeads${inputs.length}`,
      uniforms: names.map((_, k) => `n${k} : i32`).join(', '),
      getUserCode: () => `
        var<workgroup> partial : array<f32, ${HEAD_THREADS}>;
        fn main(index : i32) {
          let t = i32(localIndex);
          var acc = 0.0;
          ${names.map((x, k) => `if (t < uniforms.n${k}) { acc = acc + ${x}[t]; }`).join('\n          ')}
          partial[localIndex] = acc;
          ${workgroupSum('partial', HEAD_THREADS)}
          if (localIndex == 0u) {
            result[0] = partial[0];
          }
        }`,
    },
    1,
    HEAD_THREADS,
  );
  const uniforms = inputs.map((t) => i32(Math.min(STATE_HEAD, sizeOf(t.shape))));
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', uniforms);
}

const SQ_THREADS = 256;

/** Σ x² over all inputs x0…; with attribute carry, input `carry` (a running sum) is added unsquared. */
function sumSquares(args: KernelArgs): tf.TensorInfo {
  const carry = Boolean(args.attrs?.carry);
  const xs = Object.keys(args.inputs)
    .filter((k) => k !== 'carry')
    .sort()
    .map((k) => args.inputs[k]);
  const inputs = carry ? [args.inputs.carry, ...xs] : xs;
  if (xs.length === 0 || inputs.length > MAX_FUSED_INPUTS) throw new Error(`SumSquares: 1 to ${MAX_FUSED_INPUTS} inputs in all, got ${inputs.length}`);
  const names = inputs.map((_, k) => `X${k}`);
  const loops = names
    .map((x, k) => (carry && k === 0 ? '' : `for (var i = t; i < uniforms.n${k}; i = i + ${SQ_THREADS}) { let v = ${x}[i]; acc = acc + v * v; }`))
    .join('\n          ');
  const prog = program(
    {
      variableNames: names,
      outputShape: [],
      shaderKey: `SgpSumSquares${inputs.length}${carry ? 'c' : ''}`,
      uniforms: names.map((_, k) => `n${k} : i32`).join(', '),
      getUserCode: () => `
        var<workgroup> partial : array<f32, ${SQ_THREADS}>;
        fn main(index : i32) {
          let t = i32(localIndex);
          var acc = 0.0;
          ${loops}
          partial[localIndex] = acc;
          ${workgroupSum('partial', SQ_THREADS)}
          if (localIndex == 0u) {
            result[0] = partial[0]${carry ? ' + X0[0]' : ''};
          }
        }`,
    },
    1,
    SQ_THREADS,
  );
  const uniforms = inputs.map((t) => i32(sizeOf(t.shape)));
  return (args.backend as WebGPUBackendLike).runWebGPUProgram(prog, inputs, 'float32', uniforms);
}

export function registerAdamW(): void {
  const kernels: [string, (a: KernelArgs) => tf.TensorInfo][] = [
    [FUSED.adamwParam, adamwParam],
    [FUSED.adamwState, adamwState],
    [FUSED.sumHeads, sumHeads],
    [FUSED.sumSquares, sumSquares],
  ];
  for (const [kernelName, fn] of kernels) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
