import { describe, expect, it } from 'vitest';
import { archOf, presetOf, PRESETS } from '../../src/engine/model/config';

describe('presetOf: the one rule that names an architecture', () => {
  it('names each preset by its numbers and anything else custom', () => {
    for (const p of ['tiny', 'baby', 'small'] as const) expect(presetOf({ ...PRESETS[p] })).toBe(p);
    expect(presetOf({ ...PRESETS.baby, blockSize: 128 })).toBe('custom');
    expect(presetOf({ ...PRESETS.tiny, bias: true })).toBe('custom');
  });
  it('reads the architecture out of a model configuration (the vocabulary is not part of it)', () => {
    expect(archOf({ ...PRESETS.baby, vocabSize: 59 })).toEqual(PRESETS.baby);
    expect(presetOf(archOf({ ...PRESETS.baby, blockSize: 128, vocabSize: 59 }))).toBe('custom');
  });
});
