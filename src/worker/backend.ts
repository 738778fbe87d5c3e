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
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { startWasmKernelThreads, wasmKernelThreads, type WasmBackendLike } from '../engine/ops/wasmKernels';
import { registerSharedIdentity } from '../engine/ops/wasmFused/identity';
import type { KernelThreadHandle } from '../engine/ops/kernelThreads';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { MAX_WASM_THREADS, type BackendName, type BackendReport, type BackendProbe, type BackendReason } from './protocol';

/** A sentence of the report: its code (translated by the page as `backend.<code>`), parameters and English text. */
const why = (code: string, text: string, params?: Record<string, string | number>): BackendReason => (params ? { code, params, text } : { code, text });

/** A probe's result, its detail told as a BackendReason too. */
const probe = (available: boolean, hardware: boolean, w: BackendReason): BackendProbe => ({ available, hardware, detail: w.text, why: w });

/**
 * Threads for WebAssembly: TF.js's threaded SIMD build needs SharedArrayBuffer, which a browser gives only
 * to a cross-origin isolated page (the app is served with COOP/COEP; see vite.config.ts, and
 * scripts/wasmThreadsPlugin.ts for what makes the build survive bundling). Its heap is shared memory, so the
 * engine's own kernels (src/engine/ops/wasmKernels.ts) run there too and split their work over kernel threads
 * that this worker starts (src/engine/ops/kernelThreads.ts): every core trains, with the kernels on. Measured on
 * 2 cores (README, Benchmark), two threads beat one, so any machine with two cores or more uses them all.
 */
const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
/** Threads WebAssembly trains on (set by useThreads, before the backend starts; 1 if the threaded build fails). */
let wasmThreads = 1;
/** Why the threaded build is not used, or its kernel threads did not start (empty while all is well). */
let wasmSingle: BackendReason | null = null;

/**
 * Train WebAssembly on `threads` (the threaded build from 2, with TF.js's pool that size), or on one and say why.
 * Only called where the page is isolated or for one thread: an isolated page has shared WebAssembly memory in every
 * browser that isolates, and a threaded build that fails to start falls back to one thread (activateWasm).
 */
function useThreads(threads: number, single: BackendReason | null): void {
  wasmThreads = threads;
  wasmSingle = threads > 1 ? null : single;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  if (threads > 1) setThreadsCount(threads);
}

// By default every core, where the page may have threads at all.
if (!isolated) useThreads(1, why('notIsolated', 'the page is not cross-origin isolated'));
else if (cores < 2) useThreads(1, why('oneCore', 'only one core'));
else useThreads(Math.min(cores, MAX_WASM_THREADS), null);

/**
 * Threads asked for (the page's ?threads=N, 1–MAX_WASM_THREADS), before the wasm backend starts: one runs the
 * single-threaded build, as a page without isolation does (to compare, in the same page); more, up to the cores
 * or past them, run that many. Where the page is not isolated, threads are not possible and the reason stays that.
 */
function askThreads(threads: number): void {
  if (!isolated) return;
  const n = Math.max(1, Math.min(Math.floor(threads), MAX_WASM_THREADS));
  useThreads(n, why('threadsAsked', 'as the address asks: ?threads=1'));
}

/** TF.js's own wasm factory, kept to register it again single-threaded if the threaded build fails. */
const wasmFactory = tf.findBackendFactory('wasm');
/** The threaded build loads its wasm once and starts 8 pthread workers; far longer means it is stuck. */
const THREADED_START_MS = 30_000;

// The tape's saved tensors without a copy on wasm (tfjs-backend-wasm, imported above, has registered its Identity).
registerSharedIdentity();

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
  if (!gpu) return probe(false, false, why('webgpuMissing', 'WebGPU is not available in this browser'));
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return probe(false, false, why('webgpuNoAdapter', 'WebGPU found no GPU adapter'));
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    const software = Boolean(adapter.isFallbackAdapter) || SOFTWARE_RENDERER.test(name);
    return probe(
      true,
      !software,
      software ? why('webgpuSoftware', `WebGPU has only a software adapter (${name})`, { name }) : why('webgpuAdapter', `WebGPU adapter: ${name}`, { name }),
    );
  } catch (e) {
    const message = (e as Error).message;
    return probe(false, false, why('webgpuFailed', `WebGPU failed: ${message}`, { message }));
  }
}

function probeWebGL(): BackendProbe {
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return probe(false, false, why('webglMissing', 'WebGL2 is not available'));
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const software = SOFTWARE_RENDERER.test(renderer);
    return probe(
      true,
      !software,
      software
        ? why('webglSoftware', `WebGL has only a software renderer (${renderer})`, { name: renderer })
        : why('webglRenderer', `WebGL renderer: ${renderer}`, { name: renderer }),
    );
  } catch (e) {
    const message = (e as Error).message;
    return probe(false, false, why('webglFailed', `WebGL failed: ${message}`, { message }));
  }
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Start the wasm backend: the threaded build where allowed, else (or if it fails to start) the
 * single-threaded SIMD build. A pthread worker that dies does not reject TF.js's start-up promise — it
 * hangs — so an error reported while starting, or a start that takes too long, counts as a failure.
 */
async function activateWasm(): Promise<boolean> {
  if (wasmThreads > 1) {
    let onError: (e: Event) => void = () => undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = new Promise<string>((resolve) => {
      onError = (e) => {
        // A pthread worker's error surfaces here; it is handled (by falling back), not a crash of this worker.
        e.preventDefault();
        resolve(`a thread failed (${(e as ErrorEvent).message || 'error'})`);
      };
      timer = setTimeout(() => resolve(`no start in ${THREADED_START_MS / 1000} s`), THREADED_START_MS);
      globalThis.addEventListener('error', onError);
    });
    // TF.js caps its thread pool at hardwareConcurrency / 2 (it assumes two hyper-threads per core), which
    // is one thread on a 2-core machine whatever setThreadsCount asks. It reads the count once, as the
    // module starts: for that moment it sees twice the threads chosen, so the cap is the count chosen (the cores,
    // or what the page asked for).
    const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
    Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * wasmThreads, configurable: true });
    const outcome = await Promise.race([activate('wasm').then((ok) => (ok ? '' : 'start failed')), failed]);
    if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
    globalThis.removeEventListener('error', onError);
    clearTimeout(timer);
    if (!outcome) {
      // The engine's kernel threads, on the same shared heap: a failure leaves the kernels on this thread alone.
      try {
        await startWasmKernelThreads(tf.backend() as unknown as WasmBackendLike, wasmThreads, spawnKernelThread, true);
      } catch (e) {
        const message = (e as Error).message;
        wasmSingle = why('kernelThreadsFailed', `the kernel threads failed to start (${message})`, { message });
      }
      return true;
    }
    useThreads(1, why('threadsFailed', `threaded WebAssembly failed: ${outcome}`, { message: outcome }));
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', wasmFactory, 2);
  }
  return activate('wasm');
}

/** The helper's script as a Blob URL (same-origin, so allowed in an isolated page), made once and kept. */
let kernelThreadUrl: string | undefined;

/** A kernel thread: a worker running the engine's helper source. */
function spawnKernelThread(source: string): KernelThreadHandle {
  kernelThreadUrl ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  return new Worker(kernelThreadUrl, { name: 'kernel thread' });
}

/** Threads the wasm backend trains with (the engine's kernel threads), and why only one where that is so. */
function wasmDetail(): { threads: number; note: string; reasons: BackendReason[] } {
  const threads = wasmKernelThreads();
  if (threads > 1)
    return { threads, note: `WebAssembly on ${threads} threads`, reasons: [why('wasmThreads', `WebAssembly on ${threads} threads`, { threads })] };
  const single = wasmSingle ?? why('threadsNotChosen', 'the threaded build was not chosen');
  return { threads, note: `WebAssembly on one thread (${single.text})`, reasons: [why('wasmOneThread', 'WebAssembly on one thread'), single] };
}

/**
 * The largest tensor the active GPU backend can hold in one buffer (bytes), or undefined off the GPU. WebGPU:
 * TF.js asks the device for the adapter's own maxBufferSize and maxStorageBufferBindingSize, and binds every
 * tensor as one storage buffer. WebGL: a tensor is one texture of at most WEBGL_MAX_TEXTURE_SIZE² texels, one
 * value each where the op is not packed.
 */
function largestBuffer(name: BackendName): number | undefined {
  try {
    if (name === 'webgpu') {
      const limits = (tf.backend() as unknown as { device?: { limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number } } }).device?.limits;
      const sizes = [limits?.maxBufferSize, limits?.maxStorageBufferBindingSize].filter((n): n is number => typeof n === 'number' && n > 0);
      return sizes.length ? Math.min(...sizes) : undefined;
    }
    if (name === 'webgl') {
      const side = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
      return side > 0 ? side * side * 4 : undefined;
    }
  } catch {
    // A backend that cannot say: nothing refused on this ground.
  }
  return undefined;
}

/**
 * Choose and start a backend: `forced` if given (and it works), else the fastest real one; `threads`, where given,
 * is how many WebAssembly trains on (askThreads).
 */
export async function chooseBackend(forced?: BackendName, threads?: number): Promise<BackendReport> {
  if (threads !== undefined && Number.isFinite(threads)) askThreads(threads);
  const probes: Record<BackendName, BackendProbe> = {
    webgpu: await probeWebGPU(),
    webgl: probeWebGL(),
    wasm: probe(typeof WebAssembly === 'object', false, why('wasmCpu', 'WebAssembly on the CPU')),
    cpu: probe(true, false, why('cpuJs', 'plain JavaScript on the CPU')),
  };
  const skipped: BackendReason[] = [];
  /** The report: the English reason (its sentences joined) and the sentences as codes. */
  const report = (name: BackendName, forcedOk: boolean, reasons: BackendReason[], reason: string, threads?: number): BackendReport => {
    const maxTensorBytes = largestBuffer(name);
    return {
      name,
      forced: forcedOk,
      reason,
      reasons,
      probes,
      ...(threads === undefined ? {} : { threads }),
      ...(maxTensorBytes === undefined ? {} : { maxTensorBytes }),
    };
  };
  const joined = (rs: BackendReason[]) => rs.map((r) => r.text).join('; ');
  if (forced) {
    if (await (forced === 'wasm' ? activateWasm() : activate(forced))) {
      const chosen = why('chosen', 'chosen by you');
      if (forced === 'wasm') {
        const { threads, note, reasons } = wasmDetail();
        return report(forced, true, [chosen, ...reasons], `chosen by you (${note})`, threads);
      }
      if (probes[forced].hardware || forced === 'cpu') return report(forced, true, [chosen], 'chosen by you');
      const slow = probes[forced].why ?? why('detail', probes[forced].detail);
      return report(forced, true, [chosen, slow, why('softwareSlow', 'slow')], `chosen by you (${probes[forced].detail}: slow)`);
    }
    skipped.push(why('forcedFailed', `${forced} (chosen by you) failed to start`, { backend: forced }));
  }
  for (const name of ['webgpu', 'webgl'] as const) {
    const detail = probes[name].why ?? why('detail', probes[name].detail);
    if (probes[name].hardware && (await activate(name))) return report(name, false, [...skipped, detail], joined([...skipped, detail]));
    skipped.push(detail);
  }
  if (await activateWasm()) {
    const { threads, note, reasons } = wasmDetail();
    return report(
      'wasm',
      false,
      [...skipped, ...reasons],
      skipped
        .map((r) => r.text)
        .concat(`using ${note}`)
        .join('; '),
      threads,
    );
  }
  await activate('cpu');
  const fallback = why('wasmFailed', 'WebAssembly failed: using plain JavaScript');
  return report('cpu', false, [...skipped, fallback], joined([...skipped, fallback]));
}
