/**
 * Makes TF.js's threaded WebAssembly build survive bundling (used by vite.config.ts and the test pages),
 * and the headers that let a page use it.
 *
 * Why it breaks: TF.js starts each pthread worker by evaluating the *source text* of the Emscripten
 * factory (`wasmFactoryThreadedSimd.toString()`, in a Blob given as `mainScriptUrlOrBlob`). That text must
 * therefore stand alone, but the factory reads `_scriptDir`, a variable of the closure around it. The
 * original guards it with `typeof _scriptDir !== "undefined"`; a minifier that sees the variable declared
 * in the bundle folds the guard away and renames the variable (to `e`, say), so every pthread worker dies
 * with "e is not defined" and the backend never starts.
 *
 * The fix: inside the factory, `_scriptDir` becomes `undefined`. Nothing is lost — `_scriptDir` is
 * `document.currentScript`'s URL, which is absent in a worker and in an ES module, and TF.js overrides
 * both places that read it (`locateFile` for every file, `mainScriptUrlOrBlob` for the worker script).
 */
import type { Plugin } from 'vite';

/** Cross-origin isolation (SharedArrayBuffer, so the threaded build) for dev, preview and the test pages. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const FILE = /@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
/** Where the factory (the text the pthread workers re-evaluate) begins. */
const FACTORY = 'function(WasmBackendModuleThreadedSimd) {';
/** Reads of `_scriptDir` inside the factory in TF.js 4.22: a guarded read and its use (3), the worker script's fallback URL (1). */
const EXPECTED_READS = 4;

/** Returns the patched source, or throws if the file no longer looks the way this patch expects. */
export function patchThreadedFactory(code: string): string {
  const start = code.indexOf(FACTORY);
  if (start < 0) throw new Error('tfjs-backend-wasm threaded build: factory not found (TF.js changed; revisit scripts/wasmThreadsPlugin.ts)');
  const factory = code.slice(start);
  const reads = factory.match(/\b_scriptDir\b/g)?.length ?? 0;
  if (reads !== EXPECTED_READS) {
    throw new Error(
      `tfjs-backend-wasm threaded build: expected ${EXPECTED_READS} reads of _scriptDir in the factory, found ${reads} (TF.js changed; revisit scripts/wasmThreadsPlugin.ts)`,
    );
  }
  return code.slice(0, start) + factory.replace(/\b_scriptDir\b/g, 'undefined');
}

export function wasmThreads(): Plugin {
  return {
    name: 'tfjs-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      if (!FILE.test(id.split('?')[0])) return null;
      return { code: patchThreadedFactory(code), map: null };
    },
  };
}
