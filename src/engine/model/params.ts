/**
 * The model's parameters: one map keyed by nanoGPT's state_dict names, with nanoGPT's shapes
 * (`[out, in]` for linear weights), so export and import are a plain copy.
 *
 * The LM head is tied to the token embedding: there is one tensor, `transformer.wte.weight`; the
 * exporter writes it a second time as `lm_head.weight`.
 */
import * as tf from '../tf';
import type { GPTConfig } from './config';
import type { Rng } from '../random';
import { WPE, WTE } from './groups';

export { groupIds, groupOf, LM_HEAD, WPE, WTE, type GroupId } from './groups';

export type Params = Map<string, tf.Variable>;

export interface ParamSpec {
  name: string;
  shape: number[];
  /** How nanoGPT initialises it. */
  init: { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };
}

/** Every parameter of a config, in nanoGPT's state_dict order (lm_head omitted: it is wte). */
export function paramSpecs(c: GPTConfig): ParamSpec[] {
  const C = c.nEmbd;
  const normal = { kind: 'normal', std: 0.02 } as const;
  // GPT-2: scale the residual projections by 1/sqrt(2L), one for each of the two residual adds per block.
  const projNormal = { kind: 'normal', std: 0.02 / Math.sqrt(2 * c.nLayer) } as const;
  const zeros = { kind: 'zeros' } as const;
  const ones = { kind: 'ones' } as const;
  const specs: ParamSpec[] = [
    { name: WTE, shape: [c.vocabSize, C], init: normal },
    { name: WPE, shape: [c.blockSize, C], init: normal },
  ];
  const layerNorm = (prefix: string) => {
    specs.push({ name: `${prefix}.weight`, shape: [C], init: ones });
    if (c.bias) specs.push({ name: `${prefix}.bias`, shape: [C], init: zeros });
  };
  const linear = (prefix: string, out: number, inp: number, std: ParamSpec['init'] = normal) => {
    specs.push({ name: `${prefix}.weight`, shape: [out, inp], init: std });
    if (c.bias) specs.push({ name: `${prefix}.bias`, shape: [out], init: zeros });
  };
  for (let i = 0; i < c.nLayer; i++) {
    const h = `transformer.h.${i}`;
    layerNorm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, 3 * C, C);
    linear(`${h}.attn.c_proj`, C, C, projNormal);
    layerNorm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, 4 * C, C);
    linear(`${h}.mlp.c_proj`, C, 4 * C, projNormal);
  }
  layerNorm('transformer.ln_f');
  return specs;
}

/**
 * Initialise parameters as nanoGPT does. Values are drawn on the CPU from the seeded Rng, so the same
 * seed gives bit-identical weights on every backend.
 */
export function initParams(c: GPTConfig, rng: Rng): Params {
  const params: Params = new Map();
  for (const spec of paramSpecs(c)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (spec.init.kind === 'ones') values.fill(1);
    else if (spec.init.kind === 'normal') for (let i = 0; i < size; i++) values[i] = rng.normal() * spec.init.std;
    params.set(spec.name, createVariable(spec.name, values, spec.shape));
  }
  return params;
}

let variableCounter = 0;

/** A trainable variable; tf.tidy keeps the initial tensor from leaking (TF.js trap: tf.variable copies). */
export function createVariable(name: string, values: Float32Array, shape: number[]): tf.Variable {
  // Variable names are global in TF.js: make them unique so two models can live side by side.
  const unique = `${name}#${variableCounter++}`;
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true, unique));
}

export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose();
}
