import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNELS, ROOT, assembleAll, renderModule, variantText } from '../../scripts/kernels';

describe('committed WebAssembly kernels', () => {
  it.each(KERNELS.map((k) => [k.wat, k]))('%s assembles to exactly the committed module, in every variant', async (_, kernel) => {
    const binaries = await assembleAll(kernel);
    for (const [variant, bytes] of binaries) {
      // A module that takes TF.js's memory (shared for the threaded build) and exports functions. Relaxed SIMD
      // needs a flag in Node 20, so the fma variants are parsed only where the engine has it.
      const shared = variant === 'shared' || variant === 'fmaShared';
      if (WebAssembly.validate(bytes as BufferSource)) {
        const module = new WebAssembly.Module(bytes as BufferSource);
        expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
        expect(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').length).toBeGreaterThan(0);
        // a shared module cannot take unshared memory, and the other way round
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: !shared } as WebAssembly.MemoryDescriptor);
        expect(() => new WebAssembly.Instance(module, { env: { memory } }), variant).toThrow();
      } else {
        expect(variant.startsWith('fma'), `${variant} does not validate`).toBe(true);
      }
    }
    // Byte for byte what `npm run build:kernels` would write: the binary cannot drift from its source.
    expect(readFileSync(ROOT + kernel.module, 'utf8')).toBe(renderModule(kernel, binaries));
  });

  it('rewrites every multiply-add of the fma variant and only the memory import of the shared one', () => {
    const src = '(module (import "env" "memory" (memory 0)) (func (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (local.get $b)))))';
    expect(variantText(src, 'fmaShared')).toBe(
      '(module (import "env" "memory" (memory 0 65536 shared)) (func (f32x4.relaxed_madd (local.get $a) (local.get $b) (local.get $c0))))',
    );
    expect(variantText(src, 'plain')).toBe(src);
    expect(() => variantText('(module (import "env" "memory" (memory 0)))', 'fma')).toThrow(/to fuse/);
    expect(() => variantText('(module)', 'shared')).toThrow(/exactly one/);
  });
});
