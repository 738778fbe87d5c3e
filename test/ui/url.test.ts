import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/store/store';
import { decodeQuery, decodeState, encodeState } from '../../src/store/url';
import { PRESETS } from '../../src/engine/model/config';

describe('URL presets', () => {
  it('builds the named preset architecture from a share link', () => {
    const s = decodeState(initialState('en'), '?preset=baby&steps=2000&seed=7&lang=zh');
    expect(s.model.preset).toBe('baby');
    expect(s.model.arch).toEqual(PRESETS.baby);
    expect(s.pretrain.steps).toBe(2000);
    expect(s.model.seed).toBe(7);
    expect(s.lang).toBe('zh');
  });
  it('lets explicit architecture fields override the preset in either order', () => {
    for (const query of ['?layers=3&preset=baby', '?preset=baby&layers=3']) {
      const s = decodeState(initialState('en'), query);
      expect(s.model.arch, query).toEqual({ ...PRESETS.baby, nLayer: 3 });
      expect(s.model.preset, query).toBe('custom');
    }
  });
  it('carries a LoRA fine-tune: freeze=lora with rank, α and targets; refuses other targets', () => {
    const s = decodeState(initialState('en'), '?freeze=lora&loraRank=4&loraAlpha=2&loraTargets=attn,mlp');
    expect(s.finetune).toMatchObject({ preset: 'lora', loraRank: 4, loraAlpha: 2, loraTargets: 'attn,mlp' });
    expect(decodeState(s, encodeState(s)).finetune).toMatchObject({ preset: 'lora', loraRank: 4, loraAlpha: 2, loraTargets: 'attn,mlp' });
    expect(decodeState(initialState('en'), '?loraTargets=mlp').finetune.loraTargets).toBe('attn');
  });
  it('keeps the preset name through a round trip of its own link', () => {
    const s = initialState('en');
    const baby = { ...s, model: { ...s.model, preset: 'baby' as const, arch: { ...PRESETS.baby } } };
    expect(decodeState(s, encodeState(baby)).model).toMatchObject({ preset: 'baby', arch: PRESETS.baby });
  });
  it('ignores unknown presets, backends, schedules, freeze presets and bias values', () => {
    const init = initialState('en');
    const s = { ...init, model: { ...init.model, preset: 'custom' as const, arch: { ...init.model.arch, bias: true } } };
    const back = decodeState(s, 'preset=huge&backend=cuda&schedule=wobbly&freeze=all&bias=maybe');
    expect(back.model).toEqual(s.model);
    expect(back.backend.forced).toBe(s.backend.forced);
    expect(back.pretrain.schedule).toBe(s.pretrain.schedule);
    expect(back.finetune.preset).toBe(s.finetune.preset);
  });

  it('refuses what the form and the CLI refuse (one validation per setting), and lists every part it ignored', () => {
    const init = initialState('en');
    const { state, ignored } = decodeQuery(init, 'steps=1e12&lr=NaN&lang=xx&backend=nonsense&seed=1e400&batch=-7.5&layers=0&dropout=2&typo=1&steps2');
    expect(ignored).toEqual(['lang=xx', 'backend=nonsense', 'layers=0', 'dropout=2', 'seed=1e400', 'steps=1e12', 'batch=-7.5', 'lr=NaN', 'typo=1', 'steps2']);
    expect(state.pretrain).toEqual(init.pretrain);
    expect(state.model).toEqual(init.model);
    expect(state.lang).toBe('en');
  });

  it("carries WebAssembly's thread count (1–16, whole), round trip included, and refuses any other", () => {
    const init = initialState('en');
    expect(init.backend.threads).toBeNull();
    for (const n of [1, 3, 16]) {
      const s = decodeState(init, `?backend=wasm&threads=${n}`);
      expect(s.backend.threads).toBe(n);
      expect(decodeState(init, encodeState(s)).backend.threads).toBe(n);
    }
    for (const bad of ['threads=0', 'threads=17', 'threads=2.5', 'threads=two']) {
      const { state, ignored } = decodeQuery(init, bad);
      expect(ignored, bad).toEqual([bad]);
      expect(state.backend.threads, bad).toBeNull();
    }
  });

  it('takes the largest values the limits allow, and a negative or fractional seed is refused', () => {
    const init = initialState('en');
    const { state, ignored } = decodeQuery(init, 'steps=1000000&lr=1000&seed=4294967295&ftBatch=1000000');
    expect(ignored).toEqual([]);
    expect([state.pretrain.steps, state.pretrain.lr, state.model.seed, state.finetune.batchSize]).toEqual([1_000_000, 1000, 2 ** 32 - 1, 1_000_000]);
    expect(decodeQuery(init, 'seed=-7.5').ignored).toEqual(['seed=-7.5']);
    expect(decodeQuery(init, 'seed=3.5').ignored).toEqual(['seed=3.5']);
  });
});
