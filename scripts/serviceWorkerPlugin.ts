/**
 * The offline app: after `vite build`, writes dist/sw.js — the service worker of src/sw/sw.js with the list of
 * every file of the build (the app, its wasm, the bundled datasets and the starter models) and a version that
 * changes with their bytes, so a new build replaces the old cache and an unchanged one keeps it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/** Files of dist/ not worth a place in the cache: the worker itself, logs, source maps. */
const SKIP = /(^|\/)(sw\.js)$|\.(log|map)$/;

/** Every file under `dir`, as paths relative to it with '/' separators, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.filter((f) => !SKIP.test(f)).sort();
}

/** The service worker's source with its file list and version filled in. */
export function serviceWorkerSource(template: string, files: string[], version: string): string {
  const filled = template.replace('self.__PRECACHE__', JSON.stringify(files)).replace('self.__VERSION__', JSON.stringify(version));
  if (filled.includes('self.__PRECACHE__') || filled.includes('self.__VERSION__')) throw new Error('src/sw/sw.js: a placeholder occurs twice');
  return filled;
}

export function serviceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'small-gpt-service-worker',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    closeBundle() {
      const outDir = join(config.root, config.build.outDir);
      const files = listFiles(outDir);
      const hash = createHash('sha256');
      for (const f of files)
        hash
          .update(f)
          .update('\0')
          .update(readFileSync(join(outDir, f)));
      const template = readFileSync(join(config.root, 'src/sw/sw.js'), 'utf8');
      writeFileSync(join(outDir, 'sw.js'), serviceWorkerSource(template, files, hash.digest('hex').slice(0, 16)));
    },
  };
}
