import { describe, expect, it } from 'vitest';
import { compareStrategies, uniqueName } from '../../src/app/compare';
import { DEFAULT_FINETUNE, initialState } from '../../src/store/store';
import { runRequest } from '../../src/app/runs';
import { countParams, PRESETS } from '../../src/engine/model/config';
import { loraParamCount } from '../../src/engine/model/lora';
import type { ModelInfo } from '../../src/worker/protocol';
import { render } from '../../src/i18n/i18n';

describe('compare strategies', () => {
  it('on a 2-layer model, runs four plans that differ (bottom half = top block, so freeze-embeddings replaces it)', () => {
    const names = compareStrategies({ ...DEFAULT_FINETUNE, every: 30 }, 2).map((s) => render('en', s.name));
    expect(names).toEqual([
      'full fine-tune',
      'bottom 1 frozen',
      'progressive, every 30',
      'embeddings frozen',
      'LoRA, rank 8 (α 16)',
      'full, long (5× steps, lr 0.002)',
    ]);
  });
  it('on a 4-layer model, runs full, bottom half, top block and progressive', () => {
    expect(compareStrategies({ ...DEFAULT_FINETUNE, every: 25 }, 4).map((s) => render('en', s.name))).toEqual([
      'full fine-tune',
      'bottom 2 frozen',
      'top 1 only',
      'progressive, every 25',
      'LoRA, rank 8 (α 16)',
      'full, long (5× steps, lr 0.002)',
    ]);
  });
  it('ends with a long, strong full fine-tune (the one that forgets): five times the steps at lr 2e-3 or more', () => {
    const f = { ...DEFAULT_FINETUNE, steps: 60, lr: 3e-4 };
    const long = compareStrategies(f, 4).at(-1)!;
    const r = runRequest({ ...initialState('en'), finetune: f }, 'finetune', true, long.patch);
    expect([r.steps, r.lr, r.freeze]).toEqual([300, 2e-3, { kind: 'none' }]);
    expect(
      runRequest({ ...initialState('en'), finetune: { ...f, lr: 5e-3 } }, 'finetune', true, compareStrategies({ ...f, lr: 5e-3 }, 4).at(-1)!.patch).lr,
    ).toBe(5e-3);
  });
  it("adds LoRA with the user's rank, α and targets as one more row, whose request trains the adapters only", () => {
    const f = { ...DEFAULT_FINETUNE, loraRank: 4, loraAlpha: 2, loraTargets: 'attn,mlp' as const };
    const lora = compareStrategies(f, 4).at(-2)!;
    expect(render('en', lora.name)).toBe('LoRA, rank 4 (α 2), attention and MLP');
    expect(render('zh', lora.name)).toBe('LoRA，秩 4（α 2），注意力和 MLP');
    const st = initialState('en');
    const r = runRequest(
      { ...st, finetune: f, model: { ...st.model, info: { config: { ...PRESETS.baby, vocabSize: 65 } } as ModelInfo } },
      'finetune',
      true,
      lora.patch,
    );
    expect(r.lora).toEqual({ rank: 4, alpha: 2, targets: 'attn,mlp' });
    expect(r.freeze).toEqual({ kind: 'none' });
    // Its share of the model's parameters: a few per cent on the baby model (4 layers, width 128).
    const share = loraParamCount({ ...PRESETS.baby, vocabSize: 65 }, r.lora!) / countParams({ ...PRESETS.baby, vocabSize: 65 });
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.1);
    // The other strategies are no LoRA runs.
    expect(runRequest({ ...st, finetune: f }, 'finetune', true, compareStrategies(f, 4)[0].patch).lora).toBeUndefined();
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
