/**
 * The one place a Node runtime (CLI, benchmark, tests) chooses its TF.js backend.
 * wasm is the default: about 8× faster than the pure-JS cpu backend on this machine type.
 *
 * Threads: with `threads` > 1, wasm is TF.js's threaded build (cli/wasmThreads.ts) and the engine's kernels split
 * their work over that many threads; with 1, the single-threaded build. The CLI asks for every core; tests and
 * library callers get one thread unless they ask.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import * as tf from '../src/engine/tf';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { relaxedSimdSupported, startWasmKernelThreads, stopWasmKernelThreads, wasmKernelThreads, type WasmBackendLike } from '../src/engine/ops/wasmKernels';
import { registerSharedIdentity } from '../src/engine/ops/wasmFused/identity';
import { spawnNodeKernelThread, threadedWasmFactory } from './wasmThreads';
import { installNodeWebGPU } from './webgpuNode';

export type NodeBackend = 'wasm' | 'cpu' | 'webgpu';
/** The backends every Node install has (the tests run on each). */
export const NODE_BACKENDS: readonly NodeBackend[] = ['wasm', 'cpu'];
/** And WebGPU on the machine's GPU, where Dawn's bindings are installed (cli/webgpuNode.ts). */
export const OPTIONAL_NODE_BACKENDS: readonly NodeBackend[] = ['webgpu'];

export function isNodeBackend(name: string): name is NodeBackend {
  return (NODE_BACKENDS as readonly string[]).includes(name) || (OPTIONAL_NODE_BACKENDS as readonly string[]).includes(name);
}

// Fused multiply-add (WebAssembly relaxed SIMD) is behind a flag in Node 20 and on by default from Node 22; set
// before any kernel compiles, and only where it is missing (a newer V8 may not know the flag).
if (!relaxedSimdSupported()) {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  relaxedSimdSupported(true);
}

// The tape's saved tensors without a copy on wasm (tfjs-backend-wasm, imported above, has registered its Identity).
registerSharedIdentity();

/** Every core this process may use. */
export function allCores(): number {
  return availableParallelism();
}

let cliThreads = allCores();

/** Threads the CLI trains on without --threads: every core. */
export function defaultCliThreads(): number {
  return cliThreads;
}

/**
 * Change that default. The test suite sets 1: its files run two at a time on two cores, and a command run in a
 * test must not swap the shared backend under the tests around it (kernel-threads.test.ts covers threads).
 */
export function setDefaultCliThreads(n: number): void {
  cliThreads = n;
}

/** TF.js's own factory for the single-threaded wasm build, kept to switch back to it. */
const singleFactory = tf.findBackendFactory('wasm');
/** Threads the registered wasm factory starts (1: the single-threaded build). */
let registeredThreads = 1;

/** Register the wasm factory for this thread count, replacing the backend if it was another. */
function registerWasm(threads: number): void {
  if (threads === registeredThreads) return;
  if (tf.findBackend('wasm')) stopWasmKernelThreads(tf.findBackend('wasm') as unknown as WasmBackendLike);
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', threads > 1 ? threadedWasmFactory(threads) : singleFactory, 2);
  registeredThreads = threads;
}

/** Select and initialise a backend (wasm on `threads` threads); throws if it cannot start. */
export async function useNodeBackend(name: NodeBackend = 'wasm', { threads = 1 }: { threads?: number } = {}): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a whole number ≥ 1, got ${threads}`);
  if (name === 'wasm') registerWasm(threads);
  if (name === 'webgpu') await installNodeWebGPU();
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`the ${name} backend failed to initialise`);
    await tf.ready();
  }
  if (name === 'wasm' && threads > 1 && wasmKernelThreads() !== threads) {
    await startWasmKernelThreads(tf.backend() as unknown as WasmBackendLike, threads, spawnNodeKernelThread, true);
  }
}

/** Threads the active backend trains on (the engine's kernel threads; 1 off wasm). */
export function nodeThreads(): number {
  return tf.getBackend() === 'wasm' ? wasmKernelThreads() : 1;
}
