/**
 * WebGPU in Node (cli/webgpuNode.ts) rests on a package the project does not install: without it the CLI and the
 * benchmark say which package to install, and nothing is half set up (asking again after installing works).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '../src/engine/tf';
import { installNodeWebGPU } from '../cli/webgpuNode';

describe('WebGPU in Node without Dawn', () => {
  it('names the package to install, registers nothing, and can be asked again', async () => {
    const missing = 'webgpu-bindings-that-are-not-installed';
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(installNodeWebGPU(missing)).rejects.toThrow(
        /^WebGPU in Node needs Dawn's bindings, which are not installed \(.+\): npm install --no-save webgpu@0\.6\.2$/,
      );
    }
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    expect(tf.findBackendFactory('webgpu')).toBeNull();
  });
});
