/**
 * The one place a Node runtime (CLI, benchmark, tests) chooses its TF.js backend.
 * wasm is the default: about 8× faster than the pure-JS cpu backend on this machine type.
 */
import * as tf from '../src/engine/tf';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

export type NodeBackend = 'wasm' | 'cpu';
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu'];

export function isNodeBackend(name: string): name is NodeBackend {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

/** Select and initialise a backend; throws if it cannot start. */
export async function useNodeBackend(name: NodeBackend = 'wasm'): Promise<void> {
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`the ${name} backend failed to initialise`);
  await tf.ready();
}
