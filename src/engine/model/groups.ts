/**
 * Freezing groups, bottom to top: 'embeddings' (token embedding = tied LM head, and position embedding),
 * each block, the final LayerNorm. Pure (no TF.js), so the page can use it without the engine's tensors.
 */

export type GroupId = 'embeddings' | `block.${number}` | 'ln_f';

export function groupIds(nLayer: number): GroupId[] {
  return ['embeddings', ...Array.from({ length: nLayer }, (_, i) => `block.${i}` as GroupId), 'ln_f'];
}

export const WTE = 'transformer.wte.weight';
export const WPE = 'transformer.wpe.weight';
/** The LM head: the same tensor as WTE (weight tying); exported under its own name for nanoGPT. */
export const LM_HEAD = 'lm_head.weight';

export function groupOf(name: string): GroupId {
  if (name === WTE || name === WPE || name === LM_HEAD) return 'embeddings';
  const m = /^transformer\.h\.(\d+)\./.exec(name);
  if (m) return `block.${Number(m[1])}` as GroupId;
  if (name.startsWith('transformer.ln_f.')) return 'ln_f';
  throw new Error(`parameter ${name} belongs to no group`);
}
