/**
 * The model as an ONNX graph (opset 17) of standard operators, in the layout of Hugging Face Optimum's
 * GPT-2 export with a key/value cache, so ONNX Runtime (Python, C++, Web) and transformers.js run it:
 *
 *   inputs   input_ids                    int64 (batch, seq)
 *            attention_mask               int64 (batch, past + seq)   1 = a real token, 0 = padding
 *            position_ids                 int64 (batch, seq)          each token's position, < n_positions
 *            past_key_values.N.key/value  float (batch, nh, past, hs) the cache; past = 0 on the first call
 *   outputs  logits                       float (batch, seq, vocab)
 *            present.N.key/value          float (batch, nh, past + seq, hs)   the cache for the next call
 *
 * The graph is GPT.forward (model/gpt.ts) op for op:
 *   x = Gather(wte, input_ids) + Gather(wpe, position_ids)                       (B, T, C)
 *   per block: x += attn(LayerNormalization(x)); x += mlp(LayerNormalization(x))  eps 1e-5, as layers.ts
 *     attn: MatMul + Add → Split q, k, v → heads; k, v appended to the cache (Concat); softmax(q·kᵀ/√hs +
 *           mask) · v; the mask is -1e9 above the causal diagonal (Trilu with k = past, so query i sees
 *           keys ≤ past + i) and on padded keys (attention_mask 0), as the engine's causalMask: finite, so
 *           a row with every key masked cannot turn into NaN
 *     mlp:  MatMul + Add → exact GELU ½x(1 + erf(x/√2)) from Erf, as layers.ts's gelu → MatMul + Add
 *   logits = LayerNormalization(x) · Transpose(wte)   the tied LM head: wte is stored once
 * Linear weights are stored transposed, [in, out] (as GPT-2's Conv1D), so each product is a plain MatMul.
 * A model without biases has no Add nodes for them (nothing is stored as zeros).
 *
 * Weights are raw_data initializers in the one file, and protobuf caps a file at 2 GiB: a larger model is
 * refused before anything is read back (ONNX's external-data files would lift that; not written here).
 */
import { countParams, toModelArgs, type GPTConfig } from '../model/config';
import type { Tokenizer } from '../tokenizer/types';
import { FLOAT, INT64, OnnxGraph } from './onnxGraph';
import { MAX_MESSAGE_BYTES } from './protobuf';
import { hfTensors } from './hfLayout';
import { ExportError } from './exportError';

export { ExportError };

/** Room left in the 2 GiB for everything that is not a weight (names, nodes, shapes, metadata). */
const NON_WEIGHT_ALLOWANCE = 16 * 2 ** 20;

/** Refuses a model whose weights cannot fit one protobuf file, from its config alone (nothing is read back). */
export function checkOnnxSize(config: GPTConfig): void {
  const bytes = countParams(config) * 4; // every parameter once, float32 (the tied head is wte)
  if (bytes + NON_WEIGHT_ALLOWANCE > MAX_MESSAGE_BYTES) {
    const gib = (bytes / 2 ** 30).toFixed(2);
    const params = countParams(config).toLocaleString('en-US');
    // The Hugging Face folder holds the graph too, so it is no way round: only the model file itself is.
    throw new ExportError(
      `this model's weights take ${gib} GiB as float32 (${params} parameters): ` +
        "an ONNX file holds at most 2 GiB (protobuf's limit) and this exporter writes no external-data files; " +
        "use the model file itself (nanoGPT's .safetensors, which PyTorch loads), or a smaller model",
      'exportTooLarge',
      { gib, params },
    );
  }
}

/** Names of the graph's inputs and outputs, for callers that feed it (tests, the README). */
export const ONNX_IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  logits: 'logits',
  pastKey: (i: number) => `past_key_values.${i}.key`,
  pastValue: (i: number) => `past_key_values.${i}.value`,
  presentKey: (i: number) => `present.${i}.key`,
  presentValue: (i: number) => `present.${i}.value`,
} as const;

export interface OnnxExportOptions {
  /** The tokenizer, whose metadata (itos, or the BPE merges and vocab) travels in the file's metadata_props. */
  tokenizer?: Tokenizer;
  /** Extra metadata_props (what was trained on what). */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

/**
 * The ONNX file for a model's weights, held on the CPU under nanoGPT's names and layouts (a checkpoint's,
 * or readBackWeights's `merged`: LoRA adapters already folded in).
 */
export function onnxModelBytes(config: GPTConfig, values: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): Uint8Array {
  checkOnnxSize(config);
  const { nLayer, nHead, nEmbd: C, vocabSize: V, bias } = config;
  const hs = C / nHead;
  const g = new OnnxGraph('small_gpt');
  // Initializers under GPT-2's names and layout ([in, out] linear weights), as model.safetensors of --format hf.
  const tensors = hfTensors(config, values);
  const weight = (name: string): string => {
    const t = tensors.get(name);
    if (!t) throw new ExportError(`no values for ${name}`);
    return g.initializer(name, { dims: t.shape, data: t.data });
  };
  const biasOf = (prefix: string): string | undefined => (bias ? weight(`${prefix}.bias`) : undefined);

  const B = 'batch_size';
  const T = 'sequence_length';
  const P = 'past_sequence_length';
  const S = 'total_sequence_length'; // P + T
  const ids = g.input(ONNX_IO.inputIds, INT64, [B, T]);
  const attentionMask = g.input(ONNX_IO.attentionMask, INT64, [B, S]);
  const positions = g.input(ONNX_IO.positionIds, INT64, [B, T]);
  const past = Array.from({ length: nLayer }, (_, i) => ({
    k: g.input(ONNX_IO.pastKey(i), FLOAT, [B, nHead, P, hs]),
    v: g.input(ONNX_IO.pastValue(i), FLOAT, [B, nHead, P, hs]),
  }));

  // Constants shared by every layer.
  const one = g.constFloat([1], [], 'one');
  const half = g.constFloat([0.5], [], 'half');
  const maskValue = g.constFloat([1e9], [], 'mask_value');
  const rsqrt2 = g.constFloat([Math.SQRT1_2], [], 'rsqrt2');
  const scale = g.constFloat([1 / Math.sqrt(hs)], [], 'attn_scale');
  const qkvSizes = g.constInt64([C, C, C], [3], 'qkv_sizes');
  const headsShape = g.constInt64([0, 0, nHead, hs], [4], 'heads_shape'); // 0: keep that dimension
  const mergedShape = g.constInt64([0, 0, C], [3], 'merged_shape');
  const axis0 = g.constInt64([0], [1], 'axis0');
  const axes12 = g.constInt64([1, 2], [2], 'axes12');

  // The mask, once for every layer: (B, 1, T, S), 0 where visible, -1e9 for a future or padded key.
  const pastLen = g.op('Shape', [past[0].k], 'past_len', { start: { int: 2 }, end: { int: 3 } }); // (1)
  const seqLen = g.op('Shape', [ids], 'seq_len', { start: { int: 1 }, end: { int: 2 } }); // (1)
  const totalLen = g.op('Add', [pastLen, seqLen], 'total_len'); // (1)
  const maskShape = g.op('Concat', [seqLen, totalLen], 'mask_shape', { axis: { int: 0 } }); // (2): T, S
  const ones = g.op('ConstantOfShape', [maskShape], 'ones', { value: { tensor: { dims: [1], data: Float32Array.of(1) } } }); // (T, S)
  const diagonal = g.op('Squeeze', [pastLen, axis0], 'diagonal'); // (): query i sees keys up to past + i
  const visible = g.op('Trilu', [ones, diagonal], 'visible', { upper: { int: 0 } }); // (T, S): 1 on and below that diagonal
  const causal = g.op('Mul', [g.op('Sub', [visible, one]), maskValue], 'causal_mask'); // (T, S)
  const keep = g.op('Cast', [attentionMask], 'keep', { to: { int: FLOAT } }); // (B, S)
  const padding = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [keep, one]), maskValue]), axes12], 'padding_mask'); // (B, 1, 1, S)
  const mask = g.op('Add', [causal, padding], 'mask'); // (B, 1, T, S)

  const tok = g.op('Gather', [weight('transformer.wte.weight'), ids], 'tok_emb', { axis: { int: 0 } }); // (B, T, C)
  const pos = g.op('Gather', [weight('transformer.wpe.weight'), positions], 'pos_emb', { axis: { int: 0 } }); // (B, T, C)
  let x = g.op('Add', [tok, pos], 'x'); // (B, T, C)

  const layerNorm = (x: string, prefix: string): string => {
    const inputs = [x, weight(`${prefix}.weight`)];
    const b = biasOf(prefix);
    if (b) inputs.push(b);
    return g.op('LayerNormalization', inputs, 'ln', { axis: { int: -1 }, epsilon: { float: 1e-5 } }); // (B, T, C)
  };
  const linear = (x: string, prefix: string): string => {
    const y = g.op('MatMul', [x, weight(`${prefix}.weight`)], 'matmul'); // (B, T, in)·(in, out) → (B, T, out)
    const b = biasOf(prefix);
    return b ? g.op('Add', [y, b], 'linear') : y;
  };
  const heads = (t: string): string => g.op('Transpose', [g.op('Reshape', [t, headsShape])], 'heads', { perm: { ints: [0, 2, 1, 3] } }); // (B, T, C) → (B, nh, T, hs)

  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    // Attention: x = x + c_proj(softmax(q·kᵀ/√hs + mask)·v)
    const a = layerNorm(x, `${h}.ln_1`); // (B, T, C)
    const qkv = linear(a, `${h}.attn.c_attn`); // (B, T, 3C)
    const [q, k, v] = g.node('Split', [qkv, qkvSizes], [g.fresh('q'), g.fresh('k'), g.fresh('v')], { axis: { int: 2 } }); // each (B, T, C)
    const [kAll] = g.node('Concat', [past[i].k, heads(k)], [ONNX_IO.presentKey(i)], { axis: { int: 2 } }); // (B, nh, S, hs)
    const [vAll] = g.node('Concat', [past[i].v, heads(v)], [ONNX_IO.presentValue(i)], { axis: { int: 2 } }); // (B, nh, S, hs)
    const kT = g.op('Transpose', [kAll], 'k_t', { perm: { ints: [0, 1, 3, 2] } }); // (B, nh, hs, S)
    const scores = g.op('Mul', [g.op('MatMul', [heads(q), kT]), scale], 'scores'); // (B, nh, T, S)
    const att = g.op('Softmax', [g.op('Add', [scores, mask])], 'att', { axis: { int: -1 } }); // (B, nh, T, S)
    const yh = g.op('MatMul', [att, vAll], 'y_heads'); // (B, nh, T, hs)
    const y = g.op('Reshape', [g.op('Transpose', [yh], 'y_t', { perm: { ints: [0, 2, 1, 3] } }), mergedShape], 'y'); // (B, T, C): heads side by side
    x = g.op('Add', [x, linear(y, `${h}.attn.c_proj`)], 'x'); // (B, T, C)
    // MLP: x = x + c_proj(gelu(c_fc(ln_2(x)))), GELU exact: x·½(1 + erf(x/√2))
    const f = linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`); // (B, T, 4C)
    const cdf = g.op('Mul', [g.op('Add', [g.op('Erf', [g.op('Mul', [f, rsqrt2])]), one]), half], 'cdf'); // (B, T, 4C): Φ(f)
    x = g.op('Add', [x, linear(g.op('Mul', [f, cdf], 'gelu'), `${h}.mlp.c_proj`)], 'x'); // (B, T, C)
  }
  const final = layerNorm(x, 'transformer.ln_f'); // (B, T, C)
  // The tied head: the same wte initializer, transposed (ONNX Runtime folds this once, at load).
  const head = g.op('Transpose', ['transformer.wte.weight'], 'lm_head', { perm: { ints: [1, 0] } }); // (C, V)
  g.node('MatMul', [final, head], [ONNX_IO.logits]); // (B, T, V)

  g.output(ONNX_IO.logits, FLOAT, [B, T, V]);
  for (let i = 0; i < nLayer; i++) {
    g.output(ONNX_IO.presentKey(i), FLOAT, [B, nHead, S, hs]);
    g.output(ONNX_IO.presentValue(i), FLOAT, [B, nHead, S, hs]);
  }
  const metadata: Record<string, string> = { model_args: JSON.stringify(toModelArgs(config)), ...(opts.tokenizer?.metadata() ?? {}), ...opts.metadata };
  return g
    .model({
      producer: 'small-gpt-playground',
      version: opts.producerVersion ?? '1',
      docString: 'A GPT (nanoGPT architecture) trained in the Small GPT Playground; GPT-2 layout with a key/value cache.',
      metadata,
    })
    .finish();
}
