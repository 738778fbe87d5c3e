import { describe, expect, it } from 'vitest';
import { overfitRegions } from '../../src/ui/charts/overfit';

const e = (globalStep: number, train: number, val: number) => ({ globalStep, losses: { train, val } });

describe('overfitRegions', () => {
  it('finds where the held-out loss rises while the training loss falls, merging neighbours', () => {
    const evals = [e(0, 3, 3), e(10, 2.5, 2.6), e(20, 2.2, 2.7), e(30, 2.0, 2.9), e(40, 1.9, 2.8), e(50, 1.8, 3.0)];
    expect(overfitRegions(evals, 'train', 'val')).toEqual([
      { from: 10, to: 30 },
      { from: 40, to: 50 },
    ]);
  });
  it('is empty while both fall, or both rise (a bad learning rate is not overfitting)', () => {
    expect(overfitRegions([e(0, 3, 3), e(10, 2, 2.5), e(20, 2.5, 2.8)], 'train', 'val')).toEqual([]);
    expect(overfitRegions([e(0, 3, 3)], 'train', 'val')).toEqual([]);
  });
  it('ignores evaluations that lack either loss', () => {
    expect(overfitRegions([e(0, 3, 3), { globalStep: 5, losses: { train: 1 } }, e(10, 2, 3.5)], 'train', 'val')).toEqual([{ from: 0, to: 10 }]);
  });
});
