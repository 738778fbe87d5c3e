import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, serviceWorkerSource } from '../scripts/serviceWorkerPlugin';
import { tempDir } from './tempDir';

describe('the service worker build step', () => {
  it('lists every file of the build but the worker itself, logs and source maps', () => {
    const dir = tempDir('sw-');
    for (const f of ['index.html', 'sw.js', 'assets/a-1.js', 'assets/a-1.js.map', 'datasets/x.txt', 'starters/en.safetensors', 'starters/en.log']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), f);
    }
    expect(listFiles(dir)).toEqual(['assets/a-1.js', 'datasets/x.txt', 'index.html', 'starters/en.safetensors']);
  });

  it('fills the list and the version into src/sw/sw.js', () => {
    const out = serviceWorkerSource(readFileSync('src/sw/sw.js', 'utf8'), ['index.html', 'assets/a.js'], 'abc123');
    expect(out).toContain('const FILES = ["index.html","assets/a.js"];');
    expect(out).toContain('const VERSION = "abc123";');
    expect(out).not.toContain('__PRECACHE__');
  });
});
