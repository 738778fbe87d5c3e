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
import { adamwKernelFits, adamwStepSimd } from '../ops/adamwStep';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  /** Explicit: WebGL's backend epsilon is 1e-4, not 1e-7/1e-8, so never take the backend default. */
  eps: number;
  weightDecay: number;
}

/** nanoGPT shakespeare_char: betas (0.9, 0.99), weight decay 0.1; PyTorch's eps 1e-8. */
export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
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
   * One update of `param` from gradient `grad` (already clipped). `ok` is a boolean tensor of param's
   * shape (or a scalar): where false (a non-finite loss or gradient this step) nothing changes — parameter
   * and moments keep their values, decided on the device so no read-back is needed. Pass a full-shape
   * mask when speed matters: a scalar condition makes tf.where tile it, a slow kernel on wasm.
   * Returns the update's squared L2 norm, a scalar (exactly 0 when not ok).
   */
  update(name: string, param: tf.Variable, grad: tf.Tensor, lr: number, ok: tf.Tensor): tf.Scalar {
    const { beta1, beta2, eps, weightDecay } = this.config;
    let slot = this.slots.get(name);
    if (!slot) {
      slot = {
        m: tf.tidy(() => tf.variable(tf.zerosLike(param), false)),
        v: tf.tidy(() => tf.variable(tf.zerosLike(param), false)),
        step: 0,
      };
      this.slots.set(name, slot);
    }
    slot.step += 1;
    const t = slot.step;
    const s = slot;
    return tf.tidy(() => {
      if (adamwKernelFits(param, grad, s.m, s.v, ok)) {
        // wasm: the same arithmetic in one SIMD pass (ops/adamwStep.ts)
        const decay = param.rank >= 2 && weightDecay > 0 ? 1 - lr * weightDecay : 1;
        const scalars = { beta1, beta2, eps, stepSize: lr / (1 - beta1 ** t), c2: Math.sqrt(1 - beta2 ** t), decay };
        const r = adamwStepSimd(param, grad, s.m, s.v, ok, scalars);
        s.m.assign(r.m);
        s.v.assign(r.v);
        param.assign(r.next);
        return r.updateNorm2;
      }
      const m = s.m.mul(beta1).add(grad.mul(1 - beta1));
      const v = s.v.mul(beta2).add(grad.square().mul(1 - beta2));
      const stepSize = lr / (1 - beta1 ** t);
      const denom = v.sqrt().div(Math.sqrt(1 - beta2 ** t)).add(eps);
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
      out.set(name, { m: (await s.m.data()) as Float32Array, v: (await s.v.data()) as Float32Array, step: s.step });
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
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}
