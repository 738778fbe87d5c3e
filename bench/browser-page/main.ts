/**
 * Browser benchmark page: the engine's Trainer (the code the training worker runs) on one backend, timed,
 * with the WebGPU device's work counted per training step: compute dispatches, queue submits, tensor uploads
 * (mapped staging buffers), uniform writes (writeBuffer) and read-backs (mapAsync of a readable buffer). The
 * counts do not depend on the hardware, so a software adapter tells what a real GPU will have to do.
 */
import * as tf from '../../src/engine/tf';
import { chooseBackend } from '../../src/worker/backend';
import { GPT } from '../../src/engine/model/gpt';
import { PRESETS, type PresetName } from '../../src/engine/model/config';
import { createRng } from '../../src/engine/random';
import { corpusSource } from '../../src/engine/data/sources';
import { Trainer } from '../../src/engine/train/trainer';
import { pageReadback, READBACK_MS } from '../../src/engine/train/readback';
import type { BackendName } from '../../src/worker/protocol';

const counts = { dispatches: 0, submits: 0, uploads: 0, writes: 0, readbacks: 0 };

/** Wrap the WebGPU prototypes once: every device TF.js creates is counted. */
function instrument(): void {
  const g = globalThis as unknown as Record<string, { prototype: Record<string, (...a: unknown[]) => unknown> } | undefined>;
  const wrap = (cls: string, method: string, key: keyof typeof counts, when?: (self: unknown, args: unknown[]) => boolean) => {
    const proto = g[cls]?.prototype;
    if (!proto || !proto[method]) return;
    const orig = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      if (!when || when(this, args)) counts[key]++;
      return orig.apply(this, args);
    };
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches');
  wrap('GPUQueue', 'submit', 'submits');
  wrap('GPUQueue', 'writeBuffer', 'writes'); // uniforms (shapes, scalars) of each program
  // TF.js uploads tensor data through buffers created mapped (staging) and reads back through MAP_READ buffers.
  wrap('GPUDevice', 'createBuffer', 'uploads', (_s, a) => Boolean((a[0] as { mappedAtCreation?: boolean })?.mappedAtCreation));
  wrap('GPUBuffer', 'mapAsync', 'readbacks', (_s, a) => ((a[0] as number) & 1) === 1); // GPUMapMode.READ
}
instrument();

export interface BenchOptions {
  backend: BackendName;
  preset: PresetName;
  batch: number;
  steps: number;
  warmup: number;
  /** Read statistics back every step, or by time (the worker's rule, pageReadback). */
  readbackMs?: number;
}

async function bench(o: BenchOptions) {
  const report = await chooseBackend(o.backend);
  if (report.name !== o.backend) throw new Error(`backend ${o.backend} did not start: ${report.reason}`);
  const config = { ...PRESETS[o.preset], vocabSize: 65, dropout: 0 };
  const rng = createRng(1);
  const ids = Int32Array.from({ length: 50_000 }, () => rng.int(65));
  const model = GPT.create(config, 1);
  const trainer = new Trainer(model, { seed: 1 });
  const spec = {
    steps: o.warmup,
    batchSize: o.batch,
    schedule: { kind: 'constant', lr: 1e-4 } as const,
    train: corpusSource(ids, config.blockSize),
    ...(o.readbackMs !== undefined ? { ...pageReadback(o.backend !== 'wasm'), readbackMs: o.readbackMs } : {}),
  };
  await trainer.run(spec);
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
  const tensors = tf.memory().numTensors;
  const t0 = performance.now();
  await trainer.run({ ...spec, steps: o.steps });
  const ms = (performance.now() - t0) / o.steps;
  const per = (n: number) => n / o.steps;
  const out = {
    backend: tf.getBackend(),
    threads: report.threads ?? null,
    preset: o.preset,
    batch: o.batch,
    blockSize: config.blockSize,
    steps: o.steps,
    readback: o.readbackMs === undefined ? 'every step' : `every ${o.readbackMs} ms${o.backend === 'wasm' ? '' : `, ≥ 10 steps, ≤ ${READBACK_MS} ms queued`}`,
    msPerStep: ms,
    tokensPerSec: (o.batch * config.blockSize * 1000) / ms,
    dispatchesPerStep: per(counts.dispatches),
    submitsPerStep: per(counts.submits),
    uploadsPerStep: per(counts.uploads),
    uniformWritesPerStep: per(counts.writes),
    readbacksPerStep: per(counts.readbacks),
    tensorsFlat: tf.memory().numTensors === tensors,
  };
  trainer.dispose();
  model.dispose();
  return out;
}

Object.assign(window, { bench });
document.body.dataset.ready = 'true';
