import type { GPTConfig } from '../../src/engine/model/config';
import { KernelThreads } from '../../src/engine/ops/kernelThreads';
import { GPT } from '../../src/engine/model/gpt';
import { paramSpecs } from '../../src/engine/model/params';
import { restoreParams } from '../../src/engine/io/checkpoint';
import { createRng } from '../../src/engine/random';
import { CharTokenizer } from '../../src/engine/tokenizer/char';
import { corpusSource, type DataSource } from '../../src/engine/data/sources';
import { splitIds } from '../../src/engine/data/corpus';

/** A small, learnable text: a repeated verse with a little variety. */
export const TEXT = Array.from(
  { length: 60 },
  (_, i) => `Call me Ishmael. Some years ago, never mind how long precisely, I went to sea ${i % 7} times.\n`,
).join('');

export const TINY: Omit<GPTConfig, 'vocabSize'> = { blockSize: 16, nLayer: 3, nHead: 2, nEmbd: 16, dropout: 0, bias: false };

export function tinySetup(text = TEXT): { tok: CharTokenizer; config: GPTConfig; train: DataSource; val: DataSource } {
  const tok = CharTokenizer.fromText(text);
  const { train, val } = splitIds(tok.encode(text).ids);
  return { tok, config: { ...TINY, vocabSize: tok.vocabSize }, train: corpusSource(train, TINY.blockSize), val: corpusSource(val, TINY.blockSize) };
}

/** A model whose every parameter is random (LayerNorm gains and biases too), so no path hides behind a 1 or a 0. */
export async function randomModel(config: GPTConfig, seed: number): Promise<GPT> {
  const model = GPT.create(config, seed);
  const rng = createRng(seed + 1);
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const centre = spec.init.kind === 'ones' ? 1 : 0;
    values.set(
      spec.name,
      Float32Array.from({ length: n }, () => centre + (rng.next() - 0.5) * 0.4),
    );
  }
  restoreParams(model, values);
  return model;
}

/** Calls queued on the kernel threads with more than one part (parts run on helper threads) while f runs. */
export function splitCalls(f: () => void): number {
  const enqueue = KernelThreads.prototype.enqueue;
  let calls = 0;
  KernelThreads.prototype.enqueue = function (this: KernelThreads, ...args: Parameters<typeof enqueue>) {
    if (args[1].length > 1) calls++;
    return enqueue.apply(this, args);
  };
  try {
    f();
  } finally {
    KernelThreads.prototype.enqueue = enqueue;
  }
  return calls;
}

const watched = new WeakSet<Map<unknown, unknown>>();

/**
 * Record every key `map.set` is called with (in `kept`), and abort `ctl` once the first is kept: a resumable call
 * (sampleRepliesInto, the worker's prescore or a run's scoring: Stop) is cut right after its first reply. A map
 * already watched is left as it is (its keys are recorded once).
 */
export function cutAfterFirstSet<K, V>(map: Map<K, V>, kept: K[], ctl: { abort(): void }): void {
  if (watched.has(map as Map<unknown, unknown>)) return;
  watched.add(map as Map<unknown, unknown>);
  const set = map.set.bind(map);
  map.set = (k: K, v: V) => {
    kept.push(k);
    set(k, v);
    if (kept.length === 1) ctl.abort();
    return map;
  };
}
