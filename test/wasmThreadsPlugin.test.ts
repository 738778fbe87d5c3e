/**
 * The bundling fix for TF.js's threaded WebAssembly build (scripts/wasmThreadsPlugin.ts): the factory
 * whose source text each pthread worker re-evaluates must not read the closure's `_scriptDir`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { patchThreadedFactory, wasmThreads } from '../scripts/wasmThreadsPlugin';

const file = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
const source = readFileSync(file, 'utf8');
const FACTORY = 'function(WasmBackendModuleThreadedSimd) {';

describe('the threaded wasm factory patch', () => {
  it('leaves no read of _scriptDir in the factory, and the code before it as it was', () => {
    expect(source.slice(source.indexOf(FACTORY))).toMatch(/\b_scriptDir\b/); // the file as TF.js ships it
    const patched = patchThreadedFactory(source);
    const at = patched.indexOf(FACTORY);
    expect(patched.slice(at)).not.toMatch(/\b_scriptDir\b/);
    expect(patched.slice(0, at)).toBe(source.slice(0, source.indexOf(FACTORY)));
  });

  it('refuses a file that no longer looks as expected, saying what changed', () => {
    expect(() => patchThreadedFactory('var x = 1;')).toThrow(/factory not found/);
    expect(() => patchThreadedFactory(`${FACTORY} _scriptDir; }`)).toThrow(/expected 4 reads of _scriptDir in the factory, found 1/);
  });

  it('transforms only the threaded build', () => {
    const plugin = wasmThreads();
    const transform = plugin.transform as (code: string, id: string) => { code: string } | null;
    expect(transform('var _scriptDir;', '/x/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.js')).toBeNull();
    expect(transform(source, file)?.code).toBe(patchThreadedFactory(source));
  });
});
