import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseCurve } from '../scripts/starters';
import { readCheckpoint } from '../src/engine/io/checkpoint';
import type { StarterEntry } from '../src/datasets/starters';
import { tempDir } from './tempDir';

const run = (dir: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/starters.ts', '--only', 'zh', '--steps', '2', '--out-dir', dir, '--skip-scores'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });

describe('starter script', () => {
  it('is deterministic: the same command writes the same F16 file, log curve and manifest entry', () => {
    const [a, b] = [tempDir('st-a-'), tempDir('st-b-')];
    for (const dir of [a, b]) expect(run(dir).status).toBe(0);
    const fa = readFileSync(join(a, 'zh.safetensors'));
    expect(fa.equals(readFileSync(join(b, 'zh.safetensors')))).toBe(true);
    const ckpt = readCheckpoint(new Uint8Array(fa));
    expect(ckpt.config).toMatchObject({ nLayer: 4, nEmbd: 128, blockSize: 64 });
    const [ea, eb] = [a, b].map((d) => (JSON.parse(readFileSync(join(d, 'starters.json'), 'utf8')) as StarterEntry[])[0]);
    expect(ea).toEqual(eb);
    expect(ea).toMatchObject({ id: 'zh', corpus: 'tang-jueju', pairs: 'couplets', file: 'zh.safetensors', valLoss: null, format: null, words: null });
    expect(ea.curve.map((p) => p.step)).toEqual([0, 1, 2, 2]);
  }, 600_000); // two trainings of the Chinese starter config (~50 s on a quiet 2-core machine; minutes when it is busy)

  it('reads the training curve from the CLI log', () => {
    const log =
      'pretrain x\neval at step 0: train loss 4.4409, val loss 4.4377\nstep 1/3000 | loss 4.4309 | lr 1.98e-5 | 635 tok/s | ETA 15h\nstep 150/3000 | loss 2.4447 | lr 2e-3\neval at step 250: train loss 2.4512, val loss 2.4294\n';
    expect(parseCurve(log)).toEqual([
      { step: 0, train: 4.4409, val: 4.4377 },
      { step: 1, loss: 4.4309 },
      { step: 150, loss: 2.4447 },
      { step: 250, train: 2.4512, val: 2.4294 },
    ]);
  });
});
