/**
 * The one place a browser runtime chooses its TF.js backend (runs inside the training worker).
 *
 * Automatic order: WebGPU on a hardware adapter, WebGL on a hardware renderer, WASM, CPU. A software
 * GPU (WebGPU's fallback adapter such as SwiftShader, a software WebGL renderer) is far slower than WASM
 * on the same CPU (measured on a 2-core machine: ~30× for WebGPU, ~3.5× for WebGL), so it is not chosen
 * automatically — only when the user forces it.
 */
import * as tf from '../engine/tf';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import './webgpu/index';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName, BackendReport, BackendProbe } from './protocol';

// The threaded wasm build starts its pthread workers from a blob whose code does not survive bundling
// ("e is not defined"); the single-threaded SIMD build is used everywhere.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

// Served from our own build: no CDN at run time.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|software|softpipe|lavapipe|basic render/i;

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string };
}

async function probeWebGPU(): Promise<BackendProbe> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return { available: false, hardware: false, detail: 'WebGPU is not available in this browser' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, hardware: false, detail: 'WebGPU found no GPU adapter' };
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    const software = Boolean(adapter.isFallbackAdapter) || SOFTWARE_RENDERER.test(name);
    return { available: true, hardware: !software, detail: software ? `WebGPU has only a software adapter (${name})` : `WebGPU adapter: ${name}` };
  } catch (e) {
    return { available: false, hardware: false, detail: `WebGPU failed: ${(e as Error).message}` };
  }
}

function probeWebGL(): BackendProbe {
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return { available: false, hardware: false, detail: 'WebGL2 is not available' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const software = SOFTWARE_RENDERER.test(renderer);
    return { available: true, hardware: !software, detail: software ? `WebGL has only a software renderer (${renderer})` : `WebGL renderer: ${renderer}` };
  } catch (e) {
    return { available: false, hardware: false, detail: `WebGL failed: ${(e as Error).message}` };
  }
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** Choose and start a backend: `forced` if given (and it works), else the fastest real one. */
export async function chooseBackend(forced?: BackendName): Promise<BackendReport> {
  const probes: Record<BackendName, BackendProbe> = {
    webgpu: await probeWebGPU(),
    webgl: probeWebGL(),
    wasm: { available: typeof WebAssembly === 'object', hardware: false, detail: 'WebAssembly on the CPU' },
    cpu: { available: true, hardware: false, detail: 'plain JavaScript on the CPU' },
  };
  const skipped: string[] = [];
  if (forced) {
    if (await activate(forced)) {
      const note = probes[forced].hardware || forced === 'wasm' || forced === 'cpu' ? '' : ` (${probes[forced].detail}: slow)`;
      return { name: forced, forced: true, reason: `chosen by you${note}`, probes };
    }
    skipped.push(`${forced} (chosen by you) failed to start`);
  }
  for (const name of ['webgpu', 'webgl'] as const) {
    if (probes[name].hardware && (await activate(name))) return { name, forced: false, reason: skipped.concat(probes[name].detail).join('; '), probes };
    skipped.push(probes[name].detail);
  }
  if (await activate('wasm')) return { name: 'wasm', forced: false, reason: skipped.concat('using WebAssembly').join('; '), probes };
  await activate('cpu');
  return { name: 'cpu', forced: false, reason: skipped.concat('WebAssembly failed: using plain JavaScript').join('; '), probes };
}
