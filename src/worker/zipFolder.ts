/**
 * A folder of files (path → bytes) as one .zip, for the page's download of the Hugging Face folder
 * (engine/io/hfFolder.ts): the browser saves one file where the CLI writes a directory.
 *
 * Weights are stored, not deflated: float32 noise shrinks by a few per cent for a second of work on a large
 * model; the JSON and the model card deflate well and cost nothing.
 */
import { zipSync, type Zippable } from 'fflate';

/** Files whose contents are float32 weights. */
const isWeights = (path: string): boolean => /\.(onnx|safetensors)$/.test(path);

export function zipFolder(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const [path, bytes] of files) entries[path] = [bytes, { level: isWeights(path) ? 0 : 6 }];
  return zipSync(entries);
}
