import { describe, expect, it } from 'vitest';
import { DEFAULT_FINETUNE, freezePlanOf, initialState } from '../../src/store/store';
import { decodeState, encodeState } from '../../src/store/url';
import { downsample } from '../../src/ui/charts/downsample';
import { DICTIONARIES, defaultLang, translate, type Key } from '../../src/i18n/i18n';
import { trainableAt } from '../../src/engine/train/freeze';

describe('store', () => {
  it('turns fine-tuning settings into engine freeze plans', () => {
    expect(freezePlanOf({ ...DEFAULT_FINETUNE, preset: 'bottom', k: 9 }, 4)).toEqual({ kind: 'bottom', k: 4 });
    expect(freezePlanOf({ ...DEFAULT_FINETUNE, preset: 'top', k: 0 }, 4)).toEqual({ kind: 'top', k: 1 });
    expect(freezePlanOf({ ...DEFAULT_FINETUNE, preset: 'progressive', every: 7 }, 4)).toEqual({ kind: 'progressive', every: 7 });
    // clicking groups in the diagram: everything but the frozen ones trains
    const custom = freezePlanOf({ ...DEFAULT_FINETUNE, preset: 'custom', frozen: ['embeddings', 'block.0'] }, 2);
    expect([...trainableAt(custom, 0, 2).keys()]).toEqual(['block.1', 'ln_f']);
    expect([...trainableAt(custom, 500, 2).keys()]).toEqual(['block.1', 'ln_f']);
  });
});

describe('URL state', () => {
  it('round-trips configuration, seed, data and language', () => {
    const s = initialState('en');
    const edited = {
      ...s,
      lang: 'zh' as const,
      data: { ...s.data, source: 'tang-jueju-quick' },
      model: { ...s.model, preset: 'custom' as const, arch: { ...s.model.arch, nLayer: 3, nEmbd: 48, nHead: 4 }, seed: 99 },
      pretrain: { ...s.pretrain, steps: 1234, lr: 0.002, schedule: 'slanted' as const },
      finetune: { ...s.finetune, preset: 'bottom' as const, k: 2, useDiscriminative: true, discriminative: 2.6 },
    };
    const query = encodeState(edited);
    const back = decodeState(initialState('en'), query);
    expect(back.lang).toBe('zh');
    expect(back.data.source).toBe('tang-jueju-quick');
    expect(back.model.arch).toEqual(edited.model.arch);
    expect(back.model.seed).toBe(99);
    expect(back.pretrain).toMatchObject({ steps: 1234, lr: 0.002, schedule: 'slanted' });
    expect(back.finetune).toMatchObject({ preset: 'bottom', k: 2, useDiscriminative: true, discriminative: 2.6 });
  });
  it('names the preset by the numbers, as the model panel does: preset=custom alone is the preset they are', () => {
    const s = initialState('en');
    expect(decodeState(s, 'preset=custom').model.preset).toBe('tiny');
    expect(decodeState(s, 'preset=custom&layers=3').model.preset).toBe('custom');
    expect(decodeState(s, 'preset=custom&layers=4&heads=4&embd=128&block=64&dropout=0&bias=false').model.preset).toBe('baby');
  });
  it('ignores malformed values and never puts uploads in the URL', () => {
    const s = initialState('en');
    const back = decodeState(s, 'layers=abc&schedule=wobbly&lang=fr&seed=7');
    expect(back.model.arch.nLayer).toBe(s.model.arch.nLayer);
    expect(back.pretrain.schedule).toBe(s.pretrain.schedule);
    expect(back.lang).toBe('en');
    expect(back.model.seed).toBe(7);
    expect(encodeState({ ...s, data: { ...s.data, source: 'upload:diary.txt' } })).not.toContain('diary');
  });
});

describe('charts data', () => {
  it('downsamples to at most max points, keeping the mean and the last x of each bucket', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => ({ x: i, y: i % 2 }));
    const d = downsample(pts, 100, 'x');
    expect(d).toHaveLength(100);
    expect(d[0]).toEqual({ x: 9, y: 0.5 });
    expect(downsample(pts.slice(0, 10), 100, 'x')).toHaveLength(10);
  });
});

describe('i18n', () => {
  it('has every string in both languages with the same placeholders', () => {
    const keys = Object.keys(DICTIONARIES.en) as Key[];
    for (const k of keys) {
      const zh = DICTIONARIES.zh[k];
      expect(zh, k).toBeTruthy();
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(zh), k).toEqual(ph(DICTIONARIES.en[k]));
    }
    expect(translate('zh', 'train.progress', { step: 3, steps: 10 })).toBe('第 3 / 10 步');
  });
  it('defaults to the browser language', () => {
    expect(defaultLang(['zh-CN', 'en'])).toBe('zh');
    expect(defaultLang(['en-US', 'zh'])).toBe('en');
    expect(defaultLang([])).toBe('en');
  });
});
