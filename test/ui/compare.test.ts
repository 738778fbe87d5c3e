import { describe, expect, it } from 'vitest';
import { compareStrategies, uniqueName } from '../../src/app/compare';
import { DEFAULT_FINETUNE } from '../../src/store/store';

describe('compare strategies', () => {
  it('on a 2-layer model, runs four plans that differ (bottom half = top block, so freeze-embeddings replaces it)', () => {
    const names = compareStrategies({ ...DEFAULT_FINETUNE, every: 30 }, 2).map((s) => s.name);
    expect(names).toEqual(['none', 'bottom:1', 'progressive:30', 'embeddings']);
  });
  it('on a 4-layer model, runs full, bottom half, top block and progressive', () => {
    expect(compareStrategies({ ...DEFAULT_FINETUNE, every: 25 }, 4).map((s) => s.name)).toEqual(['none', 'bottom:2', 'top:1', 'progressive:25']);
  });
  it('passes each strategy as a patch of the settings, without discriminative rates', () => {
    const s = compareStrategies({ ...DEFAULT_FINETUNE, useDiscriminative: true }, 4);
    expect(s[1].patch).toEqual({ preset: 'bottom', k: 2, useDiscriminative: false });
  });
  it('names every run uniquely', () => {
    expect(uniqueName('progressive:30', [])).toBe('progressive:30');
    expect(uniqueName('progressive:30', ['progressive:30'])).toBe('progressive:30 #2');
    expect(uniqueName('progressive:30', ['progressive:30', 'progressive:30 #2'])).toBe('progressive:30 #3');
  });
});
