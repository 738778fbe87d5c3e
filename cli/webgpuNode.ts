/**
 * WebGPU in Node, for the CLI and `npm run bench` on a machine's own GPU: Dawn (the WebGPU implementation inside
 * Chromium) through its Node bindings, the `webgpu` package. That package is not one of the project's
 * dependencies (its download holds Dawn for five platforms, ~50 MB); it is installed on demand:
 *
 *   npm install --no-save webgpu@0.6.2
 *   npm run bench -- --backend webgpu --presets baby,small
 *
 * With it, TF.js's WebGPU backend and the engine's own WebGPU programs (src/worker/webgpu) run unchanged: the
 * same code the page's training worker runs on WebGPU, without the browser around it. On Linux Dawn reaches the
 * GPU through Vulkan (libvulkan.so.1 and the GPU driver's Vulkan driver must be installed).
 */
import * as tf from '../src/engine/tf';

/** What the `webgpu` package exports. */
interface DawnBindings {
  create(flags: string[]): unknown;
  globals: Record<string, unknown>;
}

/** The package's name, in a variable so that neither TypeScript nor a bundler requires it to be installed. */
const PACKAGE = 'webgpu';

let installed: Promise<void> | undefined;

/**
 * Give this process `navigator.gpu` (once) and register the 'webgpu' backend with the engine's programs.
 * `pkg`: the bindings' package (a test names one that is not installed).
 */
export function installNodeWebGPU(pkg = PACKAGE): Promise<void> {
  installed ??= install(pkg).catch((e: unknown) => {
    installed = undefined; // installing the package (or a driver) and asking again works
    throw e;
  });
  return installed;
}

/** The work of installNodeWebGPU, once per success. */
async function install(pkg: string): Promise<void> {
  let dawn: DawnBindings;
  try {
    dawn = (await import(pkg)) as DawnBindings;
  } catch (e) {
    throw new Error(
      `WebGPU in Node needs Dawn's bindings, which are not installed (${(e as Error).message.split('\n')[0]}): npm install --no-save webgpu@0.6.2`,
      { cause: e },
    );
  }
  // WebGPU's classes (GPUBufferUsage, GPUMapMode, …) as globals, as a browser has them; then navigator.gpu,
  // which TF.js's WebGPU backend looks for as it is imported (below, after it exists).
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else g.navigator = { gpu };
  await import('@tensorflow/tfjs-backend-webgpu');
  await import('../src/worker/webgpu/index');
  if (!tf.findBackendFactory('webgpu')) throw new Error('TF.js did not register its WebGPU backend');
}

/** The adapter TF.js's WebGPU backend runs on, in words (vendor, architecture, description), for reports. */
export async function nodeGpuName(): Promise<string> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<{ info?: Record<string, string> } | null> } } }).navigator?.gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info ?? {};
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
}
