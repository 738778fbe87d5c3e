import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/engine/model/config';
import { bufferProblem, largestTensor, MEMORY_BUDGET, memoryError, memoryEstimate, memoryProblem } from '../../src/engine/model/memory';
import { DICTIONARIES, errorText, render } from '../../src/i18n/i18n';

const baby = { ...PRESETS.baby, vocabSize: 70 };
const wasm = MEMORY_BUDGET.wasm;

describe('memory estimate', () => {
  it('grows with the batch, the optimizer is three copies of the weights', () => {
    const a = memoryEstimate(baby, 12);
    const b = memoryEstimate(baby, 24);
    expect(b.activations).toBeGreaterThan(a.activations * 1.9);
    expect(a.optimizer).toBe(a.weights * 3);
    expect(a.total).toBe(a.weights + a.optimizer + a.activations);
  });

  it('counts the vocabulary: a 60,000-character vocabulary dominates a small model', () => {
    const chars = memoryEstimate({ ...PRESETS.small, vocabSize: 60_002 }, 12);
    const plain = memoryEstimate({ ...PRESETS.small, vocabSize: 70 }, 12);
    expect(chars.total).toBeGreaterThan(2 * plain.total);
  });
});

describe('memory refused before work', () => {
  it('lets the lesson’s models through on WebAssembly', () => {
    expect(memoryProblem(baby, 12, wasm)).toBeNull();
    expect(memoryProblem({ ...PRESETS.baby, blockSize: 128, vocabSize: 60 }, 8, wasm)).toBeNull();
    expect(memoryProblem({ ...PRESETS.small, vocabSize: 70 }, 8, wasm)).toBeNull();
  });

  it('refuses baby at batch 100,000 and names the batch that fits', () => {
    const p = memoryProblem(baby, 100_000, wasm);
    expect(p?.advice.setting).toBe('batch');
    const fits = (p!.advice as { fits: number }).fits;
    expect(memoryEstimate(baby, fits).total).toBeLessThanOrEqual(wasm);
    expect(memoryEstimate(baby, fits + 1).total).toBeGreaterThan(wasm);
  });

  it('a vocabulary too large even at batch 1 asks for BPE', () => {
    const p = memoryProblem({ ...PRESETS.small, vocabSize: 2_000_000 }, 4, wasm);
    expect(p?.advice.setting).toBe('vocab');
  });

  it('no budget (a GPU, whose memory a page cannot see): nothing refused', () => {
    expect(memoryProblem(baby, 100_000, MEMORY_BUDGET.webgpu)).toBeNull();
  });

  it('each refusal is an error with a translated message naming the setting', () => {
    const cases = [
      memoryProblem(baby, 100_000, wasm)!,
      { needed: 5e9, budget: wasm, advice: { setting: 'vocab' as const, fits: 900 } },
      { needed: 5e9, budget: wasm, advice: { setting: 'blockSize' as const, fits: 32 } },
      { needed: 5e9, budget: wasm, advice: { setting: 'width' as const } },
    ];
    for (const p of cases) {
      const e = memoryError(p, 'WebAssembly');
      const text = errorText(e);
      expect(typeof text).toBe('object');
      for (const lang of ['en', 'zh'] as const) {
        const said = render(lang, text);
        expect(said).toContain('WebAssembly');
        expect(said).not.toMatch(/\{\w+\}/);
        if ('fits' in p.advice) expect(said).toContain(String(p.advice.fits));
      }
      expect(Object.keys(DICTIONARIES.zh)).toContain((text as { key: string }).key);
    }
  });
});

describe('the largest tensor against a GPU’s largest buffer', () => {
  const MiB128 = 128 * 1024 ** 2;

  it('names the step’s largest tensor: the logits with a large vocabulary, the attention maps with a long context', () => {
    expect(largestTensor({ ...PRESETS.baby, vocabSize: 5000 }, 12)).toEqual({ name: 'logits', bytes: 12 * 64 * 5000 * 4 });
    expect(largestTensor({ ...PRESETS.baby, blockSize: 1024, vocabSize: 70 }, 12)).toEqual({ name: 'attention', bytes: 12 * 4 * 1024 * 1024 * 4 });
    expect(largestTensor({ ...PRESETS.baby, vocabSize: 70 }, 1).name).toBe('mlp');
    expect(largestTensor({ ...PRESETS.baby, vocabSize: 100_000 }, 1).name).toBe('embedding');
  });

  it('lets the lesson’s models through a 128 MiB buffer (WebGPU’s default limit), and nothing without a limit', () => {
    expect(bufferProblem(baby, 12, MiB128)).toBeNull();
    expect(bufferProblem({ ...PRESETS.small, vocabSize: 70 }, 12, MiB128)).toBeNull();
    expect(bufferProblem(baby, 1_000_000, undefined)).toBeNull();
    expect(bufferProblem(baby, 1_000_000, null)).toBeNull();
  });

  it('refuses a batch whose largest tensor does not fit and names the largest batch that does', () => {
    const p = bufferProblem(baby, 100_000, MiB128)!;
    expect(p.tensor).toBe('mlp');
    expect(p.advice.setting).toBe('batch');
    const fits = (p.advice as { fits: number }).fits;
    expect(largestTensor(baby, fits).bytes).toBeLessThanOrEqual(MiB128);
    expect(largestTensor(baby, fits + 1).bytes).toBeGreaterThan(MiB128);
  });

  it('an embedding too large at batch 1 asks for BPE; a context too long asks for a shorter one', () => {
    expect(bufferProblem({ ...PRESETS.small, blockSize: 64, vocabSize: 200_000 }, 1, MiB128)).toMatchObject({
      tensor: 'embedding',
      advice: { setting: 'vocab' },
    });
    expect(bufferProblem({ ...PRESETS.small, blockSize: 8192, vocabSize: 70 }, 4, MiB128)).toMatchObject({
      tensor: 'attention',
      advice: { setting: 'blockSize' },
    });
  });

  it('says which tensor and the buffer limit, in both languages', () => {
    const p = bufferProblem(baby, 100_000, MiB128)!;
    const e = memoryError(p, 'WebGPU');
    const text = errorText(e);
    expect(render('en', text)).toBe(e.message);
    expect(render('en', text)).toBe(
      `the step’s largest tensor (the MLP’s activations, ${(largestTensor(baby, 100_000).bytes / 1e6).toFixed(0)} MB) is more than WebGPU allows in one buffer on this GPU (134 MB): lower the batch size to ${(p.advice as { fits: number }).fits} or less`,
    );
    expect(render('zh', text)).toMatch(
      /^这一步最大的张量（MLP 的激活值，\d+ MB）超过了此 GPU 上 WebGPU 单个缓冲区的上限（134 MB）：请把批大小降到 \d+ 或更小$/,
    );
  });
});
