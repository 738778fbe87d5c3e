/**
 * nanoGPT's and Hugging Face GPT-2's parameter layouts. The names are the same (nanoGPT copied GPT-2's:
 * transformer.wte / wpe / h.N.ln_1 / attn.c_attn / attn.c_proj / ln_2 / mlp.c_fc / mlp.c_proj / ln_f);
 * the linear weights are not: nanoGPT's nn.Linear stores [out, in], GPT-2's Conv1D [in, out] (y = x·W + b).
 * So going either way is a transpose of those four weights per block and a copy of everything else.
 */
import type { GPTConfig } from '../model/config';
import { paramSpecs } from '../model/params';
import type { RawTensor } from './safetensors';

/** GPT-2's Conv1D weights: stored [in, out] by transformers, [out, in] by nanoGPT and this engine. */
export function isConv1DWeight(name: string): boolean {
  return /^transformer\.h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/.test(name);
}

/** Row-major (rows, cols) → (cols, rows). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** One parameter in GPT-2's layout, from the engine's (nanoGPT's) values. */
export function toHfLayout(name: string, shape: readonly number[], data: Float32Array): RawTensor {
  if (!isConv1DWeight(name)) return { shape: [...shape], data };
  const [out, inp] = shape;
  return { shape: [inp, out], data: transpose2d(data, out, inp) }; // [out, in] → [in, out]
}

/** One parameter back in the engine's layout, from GPT-2's (shape is GPT-2's, [in, out] for Conv1D). */
export function fromHfLayout(name: string, t: RawTensor): RawTensor {
  if (!isConv1DWeight(name)) return t;
  const [inp, out] = t.shape;
  return { shape: [out, inp], data: transpose2d(t.data, inp, out) }; // [in, out] → [out, in]
}

/** Every parameter of a config in GPT-2's layout, in state_dict order. */
export function hfTensors(config: GPTConfig, values: ReadonlyMap<string, Float32Array>): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const spec of paramSpecs(config)) {
    const data = values.get(spec.name);
    if (!data) throw new Error(`no values for ${spec.name}`);
    out.set(spec.name, toHfLayout(spec.name, spec.shape, data));
  }
  return out;
}
