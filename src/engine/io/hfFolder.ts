/**
 * A Hugging Face model folder for a model trained here, loadable by transformers (GPT2LMHeadModel,
 * PreTrainedTokenizerFast), transformers.js and ONNX Runtime:
 *
 *   config.json              GPT-2's config: n_layer, n_head, n_embd, n_positions = n_ctx = the context,
 *                            activation "gelu" (transformers' exact erf GELU, as layers.ts), eps 1e-5, no
 *                            bos/eos tokens (the model has none); nanoGPT's model_args kept beside them
 *   generation_config.json   stop at "\n\n", the dialogue template's end marker (data/pairs.ts)
 *   tokenizer.json, tokenizer_config.json   the same ids as ours (hfTokenizer.ts)
 *   model.safetensors        GPT-2's names and layout (hfLayout.ts): Conv1D weights [in, out], zero biases
 *                            where nanoGPT's bias=False model has none; lm_head omitted, as transformers saves
 *                            a tied head
 *   onnx/model.onnx          the graph (onnx.ts), where transformers.js looks for it
 *   README.md                a model card: what was trained on what, how to load it
 *
 * readHfModel is the inverse: such a folder's config.json and model.safetensors back to our parameters.
 */
import { countParams, toModelArgs, validateConfig, type GPTConfig, type ModelArgs } from '../model/config';
import { LM_HEAD, paramSpecs, WTE } from '../model/params';
import type { Tokenizer } from '../tokenizer/types';
import type { TrainingInfo } from './checkpoint';
import { ExportError } from './exportError';
import { fromHfLayout, hfTensors } from './hfLayout';
import { hfTokenizerConfig, hfTokenizerJson } from './hfTokenizer';
import { checkOnnxSize, onnxModelBytes } from './onnx';
import { readSafetensors, writeSafetensors, type RawTensor } from './safetensors';

/** The dialogue template's end marker: a reply ends with an empty line. */
export const STOP_STRING = '\n\n';

/** GPT-2's config.json for a model of this shape. */
export function hfConfigJson(config: GPTConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.blockSize,
    n_ctx: config.blockSize,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: null, // 4 · n_embd, as nanoGPT's MLP
    activation_function: 'gelu', // exact: ½x(1 + erf(x/√2)); "gelu_new" would be the tanh approximation
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    scale_attn_weights: true,
    use_cache: true,
    bos_token_id: null,
    eos_token_id: null,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    // transformers.js picks the file by dtype and defaults to q8 (onnx/model_quantized.onnx) on WebAssembly:
    // the folder holds one graph, in float32.
    'transformers.js_config': { dtype: 'fp32' },
    // Not GPT-2's: what the model was in nanoGPT (bias tells whether the zero biases are real).
    nanogpt_model_args: toModelArgs(config),
  };
}

export function hfGenerationConfig(config: GPTConfig): Record<string, unknown> {
  return { _from_model_config: false, max_length: config.blockSize, stop_strings: [STOP_STRING], bos_token_id: null, eos_token_id: null, pad_token_id: null };
}

/** model.safetensors: every parameter in GPT-2's layout; biases of zeros where the model has none. */
export function hfSafetensors(config: GPTConfig, values: ReadonlyMap<string, Float32Array>): Uint8Array {
  const tensors = hfTensors(config, values);
  if (!config.bias) {
    // transformers' GPT-2 always has biases: zeros give exactly nanoGPT's bias=False model.
    for (const spec of paramSpecs({ ...config, bias: true })) {
      if (tensors.has(spec.name)) continue;
      tensors.set(spec.name, { shape: spec.shape, data: new Float32Array(spec.shape.reduce((a, b) => a * b, 1)) });
    }
  }
  // transformers refuses a safetensors file without format "pt" in its metadata.
  return writeSafetensors(tensors, { format: 'pt' });
}

function describeTraining(t: TrainingInfo | undefined): string[] {
  if (!t) return ['- training: not recorded'];
  const lines = [`- steps: ${t.step} (last phase: ${t.phase})`];
  if (typeof t.dataset === 'string') lines.push(`- pretrained on: \`${t.dataset}\``);
  if (typeof t.pairs === 'string') lines.push(`- fine-tuned on the pairs: \`${t.pairs}\``);
  if (t.freezePlan) lines.push(`- freeze plan of the fine-tune: \`${JSON.stringify(t.freezePlan)}\``);
  if (t.lora) lines.push(`- LoRA adapters, merged into the weights: \`${JSON.stringify(t.lora)}\``);
  if (t.losses && typeof t.losses === 'object')
    lines.push(
      `- last losses: ${Object.entries(t.losses as Record<string, number>)
        .map(([k, v]) => `${k} ${Number(v).toFixed(4)}`)
        .join(', ')}`,
    );
  return lines;
}

export function hfModelCard(config: GPTConfig, tok: Tokenizer, training?: TrainingInfo): string {
  const tokenizer =
    tok.kind === 'char' ? `characters (${tok.vocabSize} tokens, one per character)` : `byte-pair encoding (${tok.vocabSize} tokens, byte fallback)`;
  return `---
library_name: transformers
pipeline_tag: text-generation
tags: [gpt2, onnx, transformers.js, small-gpt-playground]
---

# A small GPT from the Small GPT Playground

A GPT with nanoGPT's architecture (GPT-2's, without biases unless trained with them), trained in the
browser or the CLI of the Small GPT Playground, exported as GPT-2.

- ${config.nLayer} layers, ${config.nHead} heads, width ${config.nEmbd}, context ${config.blockSize} tokens, ${countParams(config).toLocaleString('en-US')} parameters, bias ${config.bias}
- tokenizer: ${tokenizer}
${describeTraining(training).join('\n')}

A dialogue model answers \`question\\n\` with \`answer\\n\\n\`: generation stops at an empty line
(\`generation_config.json\`'s \`stop_strings\`). It has no special tokens.

## Use

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained("DIR"); model = AutoModelForCausalLM.from_pretrained("DIR")
ids = tok("What is a whale?\\n", return_tensors="pt").input_ids
print(tok.decode(model.generate(ids, do_sample=True, stop_strings=["\\n\\n"], tokenizer=tok)[0]))  # up to the context at most
\`\`\`

In a web page, transformers.js loads the folder: \`pipeline('text-generation', 'DIR')\` with
\`env.localModelPath\` set to the folder's parent; pass \`max_new_tokens: null\` to generate up to the context
(the pipeline's default, 256 new tokens, can run past it and fail). The Small GPT Playground's README has a short
chat page (\`docs/chat.html\`).

\`onnx/model.onnx\` runs in ONNX Runtime and transformers.js (inputs \`input_ids\`, \`attention_mask\`,
\`position_ids\`, \`past_key_values.N.key/value\` — empty, length 0, on the first call; outputs \`logits\` and
\`present.N.key/value\`). The context is ${config.blockSize} tokens: positions beyond it do not exist.
`;
}

export interface HfFolderInput {
  config: GPTConfig;
  /** Parameter values under nanoGPT's names and layouts (LoRA adapters already merged). */
  values: ReadonlyMap<string, Float32Array>;
  tokenizer: Tokenizer;
  training?: TrainingInfo;
}

const json = (o: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(o, null, 2)}\n`);

/** The folder's files, by path relative to it. The tokenizer and the size are checked first, so nothing big is built for a refusal. */
export function hfFolderFiles({ config, values, tokenizer, training }: HfFolderInput): Map<string, Uint8Array> {
  if (tokenizer.vocabSize !== config.vocabSize) throw new ExportError(`the tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocabSize}`);
  checkOnnxSize(config); // the folder holds the graph: refused from the config, before a weight is copied
  const tokenizerJson = hfTokenizerJson(tokenizer);
  return new Map([
    ['config.json', json(hfConfigJson(config))],
    ['generation_config.json', json(hfGenerationConfig(config))],
    ['tokenizer.json', json(tokenizerJson)],
    ['tokenizer_config.json', json(hfTokenizerConfig(tokenizer, config.blockSize))],
    ['model.safetensors', hfSafetensors(config, values)],
    ['onnx/model.onnx', onnxModelBytes(config, values, { tokenizer, metadata: training ? { training: JSON.stringify(training) } : {} })],
    ['README.md', new TextEncoder().encode(hfModelCard(config, tokenizer, training))],
  ]);
}

/**
 * A GPT-2 config.json and model.safetensors back to our config and parameters (nanoGPT's names and layout).
 * Refuses what nanoGPT's architecture cannot be: another activation, epsilon or MLP width, untied head, and
 * non-zero biases in a model whose config says it has none.
 */
export function readHfModel(configJson: unknown, safetensors: Uint8Array): { config: GPTConfig; values: Map<string, Float32Array> } {
  const c = configJson as Record<string, unknown>;
  if (typeof c !== 'object' || c === null || c.model_type !== 'gpt2')
    throw new ExportError(`config.json's model_type is ${JSON.stringify(c?.model_type)}, not "gpt2"`);
  if (c.activation_function !== 'gelu') throw new ExportError(`activation_function "${String(c.activation_function)}" is not nanoGPT's exact GELU ("gelu")`);
  if (c.layer_norm_epsilon !== undefined && c.layer_norm_epsilon !== 1e-5)
    throw new ExportError(`layer_norm_epsilon ${String(c.layer_norm_epsilon)} is not nanoGPT's 1e-5`);
  if (c.n_inner != null && c.n_inner !== 4 * Number(c.n_embd)) throw new ExportError(`n_inner ${String(c.n_inner)} is not 4 × n_embd, as nanoGPT's MLP`);
  if (c.tie_word_embeddings === false) throw new ExportError('tie_word_embeddings is false: nanoGPT ties the head to the token embedding');
  const args = c.nanogpt_model_args as Partial<ModelArgs> | undefined;
  const file = readSafetensors(safetensors);
  // The official GPT-2 files name tensors without the "transformer." prefix.
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of file.tensors) tensors.set(name === LM_HEAD || name.startsWith('transformer.') ? name : `transformer.${name}`, t);
  const config = validateConfig({
    vocabSize: Number(c.vocab_size),
    blockSize: Number(c.n_positions),
    nLayer: Number(c.n_layer),
    nHead: Number(c.n_head),
    nEmbd: Number(c.n_embd),
    dropout: args?.dropout ?? 0,
    bias: args?.bias ?? true,
  });
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs({ ...config, bias: true })) {
    const t = tensors.get(spec.name);
    if (!t) throw new ExportError(`model.safetensors has no tensor ${spec.name}`);
    const ours = fromHfLayout(spec.name, t);
    if (ours.shape.join() !== spec.shape.join())
      throw new ExportError(`tensor ${spec.name} has shape [${t.shape}] in GPT-2's layout; config.json needs [${spec.shape}] in nanoGPT's`);
    const isBias = spec.name.endsWith('.bias');
    if (isBias && !config.bias) {
      if (ours.data.some((v) => v !== 0)) throw new ExportError(`${spec.name} is not zero, but nanogpt_model_args say the model has no biases`);
      continue;
    }
    values.set(spec.name, ours.data);
  }
  const head = tensors.get(LM_HEAD);
  if (head && head.data.some((v, i) => v !== values.get(WTE)![i])) throw new ExportError(`${LM_HEAD} differs from ${WTE}: nanoGPT ties them`);
  return { config, values };
}
