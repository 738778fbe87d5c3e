/**
 * Looking inside the model: the attention weights of one prompt, read back as plain numbers (no tensor
 * outlives the call). Bounded by the block: a longer prompt keeps its last blockSize tokens, as sampling does.
 */
import * as tf from '../tf';
import type { GPT } from './gpt';

export interface AttentionMaps {
  /** The token ids the maps are over (the prompt's last blockSize tokens). */
  ids: number[];
  layers: number;
  heads: number;
  /** Row-major (layer, head, query, key); entries above the diagonal are 0. */
  weights: Float32Array;
}

export async function attentionMaps(model: GPT, prompt: ArrayLike<number>): Promise<AttentionMaps> {
  const ids = Array.from(prompt).slice(-model.config.blockSize);
  if (ids.length === 0) throw new Error('attention maps need at least one token');
  const input = tf.tensor2d(ids, [1, ids.length], 'int32');
  const maps = model.attention(input); // (L, nh, T, T)
  input.dispose();
  try {
    const weights = (await maps.data()) as Float32Array; // one read-back
    return { ids, layers: model.config.nLayer, heads: model.config.nHead, weights };
  } finally {
    maps.dispose();
  }
}

/** The (T, T) map of one layer and head, as rows. */
export function mapOf(m: AttentionMaps, layer: number, head: number): number[][] {
  const T = m.ids.length;
  const at = (layer * m.heads + head) * T * T;
  return Array.from({ length: T }, (_, i) => Array.from(m.weights.subarray(at + i * T, at + (i + 1) * T)));
}
