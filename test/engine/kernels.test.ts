import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNELS, ROOT, assemble, renderModule } from '../../scripts/kernels';

describe('committed WebAssembly kernels', () => {
  it.each(KERNELS.map((k) => [k.wat, k]))('%s assembles to exactly the committed module', async (_, kernel) => {
    const bytes = await assemble(kernel.wat);
    // A valid module that takes TF.js's memory and exports functions.
    const module = new WebAssembly.Module(bytes as BufferSource);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').length).toBeGreaterThan(0);
    // Byte for byte what `npm run build:kernels` would write: the binary cannot drift from its source.
    expect(readFileSync(ROOT + kernel.module, 'utf8')).toBe(renderModule(kernel, bytes));
  });
});
