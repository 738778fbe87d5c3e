/** Early stopping's rule on its own: pause after `patience` evaluations in a row without a new best held-out loss. */
import { describe, expect, it } from 'vitest';
import { EarlyStop } from '../../src/worker/run/earlyStop';

describe('early stopping', () => {
  it('stops once, after `patience` evaluations without improvement, counting from the last best', () => {
    const e = new EarlyStop(2, 'pretrain');
    const said = [3, 2.5, 2.6, 2.4, 2.45, 2.5, 2.3].map((val) => e.observe({ train: 1, val }));
    // 2.4 is a new best after one miss; then two misses (2.45, 2.5) stop it; 2.3 comes too late to matter.
    expect(said).toEqual([false, false, false, false, false, true, false]);
    expect(e.stopped).toBe(true);
    expect(e.sinceBest).toBe(2);
  });

  it('watches the held-out pairs when fine-tuning, and does nothing without patience or that loss', () => {
    const ft = new EarlyStop(1, 'finetune');
    expect(ft.observe({ val: 1 })).toBe(false);
    expect(ft.observe({ val: 2 })).toBe(false); // not the fine-tune's held-out loss
    expect(ft.observe({ 'pairs-val': 1 })).toBe(false);
    expect(ft.observe({ 'pairs-val': 1 })).toBe(true); // equal is not better
    const never = new EarlyStop(undefined, 'pretrain');
    expect([5, 6, 7, 8].some((val) => never.observe({ val }))).toBe(false);
  });
});
