/**
 * `export`: a model file as ONNX (one graph file) or as a Hugging Face folder (config, tokenizer, GPT-2
 * safetensors, the ONNX graph, a model card). With --adapter, the LoRA adapters are merged in first, as
 * the page's merged download does. Everything is built in memory before the first file is written, so a
 * refusal (a tokenizer tokenizer.json cannot express, a model past ONNX's 2 GiB) leaves nothing behind.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelFromCheckpoint, readCheckpoint, type TrainingInfo } from '../src/engine/io/checkpoint';
import { loadAdapter, readBackWeights } from '../src/engine/io/adapter';
import { checkOnnxSize, onnxModelBytes } from '../src/engine/io/onnx';
import { hfFolderFiles } from '../src/engine/io/hfFolder';
import { readBytes } from './inputs';
import { checkWritable, OutputError, writableOutput } from './output';
import { UsageError, type Values, need } from './args';
import { write } from './train';
import type { Sink } from './sink';

export const EXPORT_FORMATS = ['onnx', 'hf'] as const;

/** The model's weights (adapters merged when --adapter is given), tokenizer and training record. */
async function weights(v: Values) {
  const ckpt = readCheckpoint(readBytes(need(v, 'ckpt', 'export')));
  checkOnnxSize(ckpt.config); // both formats hold the graph: refused before adapters are merged or a weight copied
  const plain = new Map([...ckpt.params].map(([n, t]) => [n, t.data]));
  if (v.adapter === undefined) return { ckpt, values: plain, training: ckpt.training };
  const model = modelFromCheckpoint(ckpt);
  try {
    await loadAdapter(model, readBytes(v.adapter));
    const training: TrainingInfo = { ...ckpt.training, lora: model.lora!.lora, merged: true };
    return { ckpt, values: (await readBackWeights(model)).merged, training };
  } finally {
    model.dispose();
  }
}

/**
 * The folder --out names, checked before any work: missing (it is created) or an empty directory. A folder
 * with files in it is refused: the export's files would mix with, or silently replace, what is there.
 */
function outputFolder(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new OutputError(`--out ${dir} is a file: --format hf writes a folder`);
    const there = readdirSync(dir);
    if (there.length)
      throw new OutputError(
        `--out ${dir} is not empty (${there.slice(0, 3).join(', ')}${there.length > 3 ? ', …' : ''}): choose a new or empty folder for the Hugging Face files`,
      );
    checkWritable(join(dir, 'config.json'));
  } else checkWritable(dir); // its parent exists and takes files: the folder can be made there
}

export async function exportModel(v: Values, o: Sink): Promise<void> {
  const format = need(v, 'format', 'export');
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${EXPORT_FORMATS.join(' or ')}, got "${format}"`);
  const outArg = need(v, 'out', 'export');
  if (format === 'onnx') {
    const out = writableOutput(outArg, o);
    const { ckpt, values } = await weights(v);
    write(out, onnxModelBytes(ckpt.config, values, { tokenizer: ckpt.tokenizer, metadata: { training: JSON.stringify(ckpt.training) } }), o);
    return;
  }
  outputFolder(outArg);
  const { ckpt, values, training } = await weights(v);
  const files = hfFolderFiles({ config: ckpt.config, values, tokenizer: ckpt.tokenizer, training });
  mkdirSync(join(outArg, 'onnx'), { recursive: true });
  for (const [path, bytes] of files) write(join(outArg, path), bytes, o);
}
