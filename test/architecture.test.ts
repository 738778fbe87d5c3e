import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

const imports = (src: string) => [...src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);

describe('architecture', () => {
  it('the engine imports no UI, store, worker, DOM or backend package', () => {
    for (const f of files('src/engine')) {
      const src = readFileSync(f, 'utf8');
      for (const spec of imports(src)) {
        const ok = spec.startsWith('.') ? !/\/(ui|store|worker|app)\//.test(spec) && !spec.startsWith('../../') : ['@tensorflow/tfjs', 'papaparse'].includes(spec);
        expect(ok, `${relative('.', f)} imports ${spec}`).toBe(true);
      }
      expect(/\b(document|window|localStorage|indexedDB)\./.test(src), `${f} touches the DOM`).toBe(false);
    }
  });
  it('only tf.ts imports TF.js itself, and no backend is chosen outside the two runtime entry points', () => {
    for (const f of files('src')) {
      const src = readFileSync(f, 'utf8');
      if (!f.endsWith('engine/tf.ts') && !f.endsWith('worker/backend.ts')) expect(imports(src).some((s) => s.startsWith('@tensorflow/')), f).toBe(false);
      if (!f.endsWith('worker/backend.ts')) expect(/setBackend\(/.test(src), f).toBe(false);
    }
  });
  it('the page never imports the engine’s tensor code (it stays in the worker)', () => {
    const tensorModules = ['engine/tf', 'engine/model/gpt', 'engine/model/params', 'engine/train/trainer', 'engine/train/adamw', 'engine/model/layers'];
    for (const f of [...files('src/ui'), ...files('src/store'), ...files('src/app')]) {
      for (const spec of imports(readFileSync(f, 'utf8'))) {
        expect(tensorModules.some((m) => spec.endsWith(m)), `${f} imports ${spec}`).toBe(false);
      }
    }
  });
});
