/**
 * AdamW (Loshchilov & Hutter), as PyTorch's torch.optim.AdamW, with state keyed by parameter name.
 *
 * Why not tf.train.adam: it keeps its moments by position in the variable list, so when the trainable
 * set changes (progressive unfreezing) the moments attach to the wrong weights. Here each parameter owns
 * its m, v and step count, created the first time it trains — exactly what PyTorch does when a parameter
 * first receives a gradient.
 *
 *   p ← p · (1 − lr·wd)                          decoupled weight decay, on ≥ 2-D weights only
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε)
 */
import * as tf from '../tf';
import { adamwKernelActive, adamwKernelFits, adamwStepSimd } from '../ops/adamwStep';
import { FUSED, hasFused, MAX_FUSED_INPUTS, runFused, STATE_HEAD } from '../ops/fused';
import { sumMany } from '../ops/sum';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  /** Explicit: WebGL's backend epsilon is 1e-4, not 1e-7/1e-8, so never take the backend default. */
  eps: number;
  weightDecay: number;
}

/** nanoGPT shakespeare_char: betas (0.9, 0.99), weight decay 0.1; PyTorch's eps 1e-8. */
export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

/**
 * A parameter's moments: two tensors of its shape for the stock ops, or — for the fused programs — one
 * packed vector `[partials (STATE_HEAD) | m0 v0 m1 v1 …]` whose head receives, at each step, partial
 * sums of the update's squared norm (so that statistic needs no extra pass over the parameter).
 */
interface Slot {
  m?: tf.Variable;
  v?: tf.Variable;
  packed?: tf.Variable;
  step: number;
}

/** One parameter's part in a step. */
export interface ParamUpdate {
  name: string;
  param: tf.Variable;
  /** Raw gradient (not yet clipped: the guard's clip scale applies). */
  grad: tf.Tensor;
}

/**
 * What decides a step, computed once per step on the device: the loss and the gradient's global norm.
 * The step is ok when both are finite; gradients are scaled by min(1, clip / (norm + 1e-6)) when clip > 0.
 * The stock ops' tensors (ok flag, scale, full-shape masks) are made lazily, once per step, kept across
 * the optimizer's tidy scopes, and freed by dispose().
 */
export class StepGuard {
  private okT?: tf.Tensor;
  private scaleT?: tf.Tensor;
  private readonly masks = new Map<string, tf.Tensor>();

  constructor(
    readonly loss: tf.Scalar,
    readonly gradNorm: tf.Scalar,
    readonly clip: number,
  ) {}

  /**
   * Finite iff loss + norm ≤ 3e38 (both are ≥ 0; NaN compares false, Inf is too large). Not tf.isFinite:
   * WGSL lets compilers assume there are no NaNs or infinities, and on WebGPU isFinite came out false
   * for finite values; a comparison with a constant is evaluated on the real number.
   */
  get ok(): tf.Tensor {
    this.okT ??= tf.keep(tf.tidy(() => tf.lessEqual(this.loss.add(this.gradNorm), 3e38)));
    return this.okT;
  }

  get scale(): tf.Tensor {
    const clip = this.clip;
    this.scaleT ??= tf.keep(tf.tidy(() => (clip > 0 ? tf.minimum(1, tf.div(clip, this.gradNorm.add(1e-6))) : tf.scalar(1))));
    return this.scaleT;
  }

  /** `ok` spread to a parameter shape, once per shape (a same-shape tf.where needs no Tile kernel, slow on wasm). */
  okLike(shape: number[]): tf.Tensor {
    const key = shape.join('x');
    if (!this.masks.has(key)) this.masks.set(key, tf.keep(tf.tidy(() => tf.zeros(shape).add(this.ok.cast('float32')).cast('bool'))));
    return this.masks.get(key)!;
  }

  dispose(): void {
    tf.dispose([this.okT, this.scaleT, ...this.masks.values()].filter((t): t is tf.Tensor => t !== undefined));
    this.okT = this.scaleT = undefined;
    this.masks.clear();
  }
}

export interface SavedSlot {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

export class AdamW {
  private readonly slots = new Map<string, Slot>();

  constructor(readonly config: AdamWConfig = DEFAULT_ADAMW) {}

  /**
   * One step for parameters that share a learning rate (a group). Returns Σ of their updates' squared
   * L2 norms, a scalar (exactly 0 when the guard says the step is not ok, and then nothing changes).
   * With the fused programs, two launches per parameter and one per six parameters for the norm, and the
   * hyper-parameters travel as uniforms; otherwise the stock ops, one `update` per parameter.
   */
  step(updates: ParamUpdate[], lr: number, guard: StepGuard): tf.Scalar {
    if (updates.length === 0) throw new Error('AdamW.step needs at least one parameter');
    if (!hasFused(FUSED.adamwParam) || !hasFused(FUSED.adamwState) || !hasFused(FUSED.sumHeads)) {
      // wasm's kernel takes the scale and a single ok as they are (no Multiply, no mask per shape); the stock
      // ops a mask of the parameter's shape (a scalar condition makes tf.where tile it, a slow kernel on wasm).
      const kernel = adamwKernelActive();
      return tf.tidy(() => sumMany(updates.map((u) => this.update(u.name, u.param, u.grad, lr, kernel ? guard.ok : guard.okLike(u.param.shape), guard.scale))));
    }
    const { beta1, beta2, eps, weightDecay } = this.config;
    return tf.tidy(() => {
      const states = updates.map(({ name, param, grad }) => {
        const slot = this.packedSlot(name, param);
        slot.step += 1;
        const t = slot.step;
        const attrs = {
          beta1,
          beta2,
          oneMinusBeta1: 1 - beta1,
          oneMinusBeta2: 1 - beta2,
          eps,
          stepSize: lr / (1 - beta1 ** t),
          sqrtBc2: Math.sqrt(1 - beta2 ** t),
          // Decoupled weight decay on ≥ 2-D weights only, as nanoGPT's optimizer groups.
          decay: param.rank >= 2 && weightDecay > 0 ? 1 - lr * weightDecay : 1,
          clip: guard.clip,
        };
        const inputs = { param, grad, state: slot.packed!, loss: guard.loss, gradNorm: guard.gradNorm };
        // Both programs read the old parameter and moments; each writes one output.
        const next = runFused<tf.Tensor>(FUSED.adamwParam, inputs, attrs); // param's shape
        const state = runFused<tf.Tensor1D>(FUSED.adamwState, inputs, attrs); // (STATE_HEAD + 2n)
        param.assign(next);
        slot.packed!.assign(state);
        return state;
      });
      // Σ of the partials in every state's head, MAX_FUSED_INPUTS states (or a running sum and 5) per launch.
      let total: tf.Tensor | null = null;
      for (let i = 0; i < states.length;) {
        const take = states.slice(i, i + MAX_FUSED_INPUTS - (total ? 1 : 0));
        i += take.length;
        const ins: tf.Tensor[] = total ? [total, ...take] : take;
        total = runFused<tf.Scalar>(FUSED.sumHeads, Object.fromEntries(ins.map((t, k) => [`x${k}`, t])));
      }
      return total as tf.Scalar;
    });
  }

  /** Give back one step count of each named parameter: its step was skipped (non-finite), nothing changed. */
  rewind(names: string[]): void {
    for (const name of names) {
      const slot = this.slots.get(name);
      if (slot && slot.step > 0) slot.step -= 1;
    }
  }

  /** The slot of `name` in packed form (created, or converted from the stock form, on first use). */
  private packedSlot(name: string, param: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = { packed: tf.tidy(() => tf.variable(tf.zeros([STATE_HEAD + 2 * param.size]), false)), step: 0 };
      this.slots.set(name, slot);
    } else if (!slot.packed) {
      const { m, v } = slot;
      slot.packed = tf.tidy(() => tf.variable(tf.concat([tf.zeros([STATE_HEAD]), tf.stack([m!.reshape([-1]), v!.reshape([-1])], 1).reshape([-1])]), false));
      tf.dispose([m!, v!]);
      delete slot.m;
      delete slot.v;
    }
    return slot;
  }

  /** The slot of `name` in the stock form (created, or unpacked, on first use). */
  private splitSlot(name: string, param: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = { m: tf.tidy(() => tf.variable(tf.zerosLike(param), false)), v: tf.tidy(() => tf.variable(tf.zerosLike(param), false)), step: 0 };
      this.slots.set(name, slot);
    } else if (!slot.m) {
      const packed = slot.packed!;
      const [m, v] = tf.tidy(() => {
        const mv = packed.slice([STATE_HEAD], [2 * param.size]).reshape([param.size, 2]); // (n, 2)
        return [0, 1].map((k) => tf.variable(mv.slice([0, k], [param.size, 1]).reshape(param.shape), false));
      });
      packed.dispose();
      delete slot.packed;
      slot.m = m;
      slot.v = v;
    }
    return slot;
  }

  /**
   * One update of `param` from gradient `grad`·`scale` (the clipping factor; none: grad as it is). `ok` is a boolean tensor of param's
   * shape (or a scalar): where false (a non-finite loss or gradient this step) nothing changes — parameter
   * and moments keep their values, decided on the device so no read-back is needed. Pass a full-shape
   * mask when speed matters: a scalar condition makes tf.where tile it, a slow kernel on wasm.
   * Returns the update's squared L2 norm, a scalar (exactly 0 when not ok).
   */
  update(name: string, param: tf.Variable, grad: tf.Tensor, lr: number, ok: tf.Tensor, scale?: tf.Tensor): tf.Scalar {
    const { beta1, beta2, eps, weightDecay } = this.config;
    const slot = this.splitSlot(name, param);
    slot.step += 1;
    const t = slot.step;
    const s = slot as Required<Pick<Slot, 'm' | 'v'>>;
    return tf.tidy(() => {
      if (adamwKernelFits(param, grad, s.m, s.v, ok, scale)) {
        // wasm: the same arithmetic in one SIMD pass (ops/adamwStep.ts), the scale included
        const decay = param.rank >= 2 && weightDecay > 0 ? 1 - lr * weightDecay : 1;
        const scalars = { beta1, beta2, eps, stepSize: lr / (1 - beta1 ** t), c2: Math.sqrt(1 - beta2 ** t), decay };
        const r = adamwStepSimd(param, grad, s.m, s.v, ok, scalars, scale);
        s.m.assign(r.m);
        s.v.assign(r.v);
        param.assign(r.next);
        return r.updateNorm2;
      }
      if (scale) grad = grad.mul(scale);
      const m = s.m.mul(beta1).add(grad.mul(1 - beta1));
      const v = s.v.mul(beta2).add(grad.square().mul(1 - beta2));
      const stepSize = lr / (1 - beta1 ** t);
      const denom = v
        .sqrt()
        .div(Math.sqrt(1 - beta2 ** t))
        .add(eps);
      const decayed = param.rank >= 2 && weightDecay > 0 ? param.mul(1 - lr * weightDecay) : param;
      const next = tf.where(ok, decayed.sub(m.div(denom).mul(stepSize)), param);
      const updateNorm2 = next.sub(param).square().sum() as tf.Scalar;
      s.m.assign(tf.where(ok, m, s.m));
      s.v.assign(tf.where(ok, v, s.v));
      param.assign(next);
      return updateNorm2;
    });
  }

  /** Optimizer state as plain arrays (for checkpoints). A sync point: reads every moment back. */
  async save(): Promise<Map<string, SavedSlot>> {
    const out = new Map<string, SavedSlot>();
    for (const [name, s] of this.slots) {
      if (s.packed) {
        const packed = (await s.packed.data()) as Float32Array;
        const n = (packed.length - STATE_HEAD) / 2;
        const m = new Float32Array(n);
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          m[i] = packed[STATE_HEAD + 2 * i];
          v[i] = packed[STATE_HEAD + 2 * i + 1];
        }
        out.set(name, { m, v, step: s.step });
      } else {
        out.set(name, { m: (await s.m!.data()) as Float32Array, v: (await s.v!.data()) as Float32Array, step: s.step });
      }
    }
    return out;
  }

  load(saved: Map<string, SavedSlot>, shapes: Map<string, number[]>): void {
    this.dispose();
    for (const [name, s] of saved) {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`optimizer state for unknown parameter ${name}`);
      this.slots.set(name, {
        m: tf.tidy(() => tf.variable(tf.tensor(s.m, shape), false)),
        v: tf.tidy(() => tf.variable(tf.tensor(s.v, shape), false)),
        step: s.step,
      });
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v, s.packed].filter((t): t is tf.Variable => t !== undefined));
    this.slots.clear();
  }
}
