import { describe, expect, it } from 'vitest';
import { backendBadge, reasonTexts } from '../../src/app/backendText';
import type { BackendReport } from '../../src/worker/protocol';

const probes = {
  webgpu: { available: false, hardware: false, detail: 'WebGPU found no GPU adapter' },
  webgl: { available: true, hardware: false, detail: 'WebGL has only a software renderer (ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device)))' },
  wasm: { available: true, hardware: false, detail: 'WebAssembly on the CPU' },
  cpu: { available: true, hardware: false, detail: 'plain JavaScript on the CPU' },
};
const wasm: BackendReport = {
  name: 'wasm',
  forced: false,
  threads: 1,
  probes,
  reason:
    'WebGPU found no GPU adapter; WebGL has only a software renderer (ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))); using WebAssembly on one thread (only one core)',
  reasons: [
    { code: 'webgpuNoAdapter', text: 'WebGPU found no GPU adapter' },
    {
      code: 'webglSoftware',
      params: { name: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))' },
      text: 'WebGL has only a software renderer (ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device)))',
    },
    { code: 'wasmOneThread', text: 'WebAssembly on one thread' },
    { code: 'oneCore', text: 'only one core' },
  ],
};

describe('the backend badge', () => {
  it('says CPU or GPU and what runs, in both languages', () => {
    expect(backendBadge('en', wasm)).toBe('CPU · WebAssembly · 1 thread');
    expect(backendBadge('en', { ...wasm, threads: 4 })).toBe('CPU · WebAssembly · 4 threads');
    expect(backendBadge('zh', { ...wasm, threads: 4 })).toBe('CPU · WebAssembly · 4 个线程');
    expect(backendBadge('en', { ...wasm, name: 'cpu' })).toBe('CPU · JavaScript');
    const hw = { ...probes, webgpu: { ...probes.webgpu, available: true, hardware: true } };
    expect(backendBadge('en', { ...wasm, name: 'webgpu', probes: hw })).toBe('GPU · WebGPU');
    // A software GPU (forced) says so.
    expect(backendBadge('en', { ...wasm, name: 'webgl', forced: true })).toBe('GPU · WebGL (software)');
    expect(backendBadge('zh', { ...wasm, name: 'webgl', forced: true })).toBe('GPU · WebGL （软件模拟）');
  });

  it('translates our own sentences and keeps the driver string as data', () => {
    const zh = reasonTexts('zh', wasm);
    expect(zh).toEqual([
      'WebGPU 没有找到 GPU 适配器',
      'WebGL 只有软件渲染器（ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))）',
      '使用 WebAssembly，单线程',
      '只有一个核心',
    ]);
    // Not one English word of ours is left in the Chinese reasons, except inside the driver's own name.
    expect(zh.join(' ').replace('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))', '')).not.toMatch(/found|only|using|core/);
    expect(reasonTexts('en', wasm)[1]).toBe(wasm.reasons![1].text);
  });

  it('falls back to the English text for a code the dictionary lacks, and to the reason for an old report', () => {
    expect(reasonTexts('zh', { ...wasm, reasons: [{ code: 'somethingNew', text: 'a new sentence' }] })).toEqual(['a new sentence']);
    expect(reasonTexts('zh', { ...wasm, reasons: undefined })).toEqual([wasm.reason]);
  });
});
