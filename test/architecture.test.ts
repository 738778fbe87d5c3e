/**
 * The architecture's rules, checked on the import graph of src/ (see importGraph.ts): the page never
 * loads tensor code, one module owns TF.js, the engine stands alone, the store and the app sit below
 * the UI, and the engine's folders depend on one another in one direction only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, parseImports, reaching } from './importGraph';

const { graph, unresolved } = importGraph('src');
const files = [...graph.keys()];
const under = (dir: string) => (f: string) => f.startsWith(`${dir}/`);
const isTf = (pkg: string) => pkg.startsWith('@tensorflow/');
const reachesTf = reaching(graph, isTf);

describe('the import graph', () => {
  it('is complete: every relative import in src resolves to a file', () => {
    expect(unresolved).toEqual([]);
  });

  it('is read from every import form src uses', () => {
    // Side-effect, re-export, multi-name, type-only and mixed imports, each seen in a real file.
    const of = (f: string) => parseImports(readFileSync(f, 'utf8'));
    expect(of('src/worker/backend.ts')).toContainEqual({ spec: '@tensorflow/tfjs-backend-webgl', typeOnly: false });
    expect(of('src/engine/model/params.ts')).toContainEqual({ spec: './groups', typeOnly: false });
    expect(of('src/engine/io/session.ts')).toContainEqual({ spec: '../train/trainer', typeOnly: true });
    expect(of('src/store/store.ts')).toContainEqual({ spec: '../engine/train/freeze', typeOnly: false });
    expect(parseImports("import {\n  type A,\n  type B,\n} from './x';\nexport * from '@tensorflow/tfjs';")).toEqual([
      { spec: './x', typeOnly: true },
      { spec: '@tensorflow/tfjs', typeOnly: false },
    ]);
  });
});

describe('architecture', () => {
  it('finds the modules that load TF.js: the engine’s tensor code and the worker', () => {
    for (const f of ['src/engine/tf.ts', 'src/engine/model/gpt.ts', 'src/engine/train/trainer.ts', 'src/worker/training.worker.ts']) {
      expect(reachesTf.has(f), f).toBe(true);
    }
  });

  it('the page never loads TF.js: nothing in src/ui, src/store, src/app or the entry reaches it (the worker does)', () => {
    const page = files.filter((f) => under('src/ui')(f) || under('src/store')(f) || under('src/app')(f) || f === 'src/main.tsx');
    expect(page.length).toBeGreaterThan(10);
    for (const f of page) expect(reachesTf.get(f), `${f} loads TF.js: ${reachesTf.get(f)?.join(' → ')}`).toBeUndefined();
  });

  it('only src/engine/tf.ts and src/worker/backend.ts import TF.js, and only backend.ts chooses a backend', () => {
    const direct = files.filter((f) => graph.get(f)!.some((i) => i.file === null && isTf(i.spec)));
    expect(direct.sort()).toEqual(['src/engine/tf.ts', 'src/worker/backend.ts']);
    const choosing = files.filter((f) => /setBackend\(/.test(readFileSync(f, 'utf8')));
    expect(choosing).toEqual(['src/worker/backend.ts']);
  });

  it('the engine imports nothing outside src/engine but TF.js, and never touches the DOM', () => {
    for (const f of files.filter(under('src/engine'))) {
      for (const i of graph.get(f)!) {
        // An unresolved relative import fails the completeness test; here it is neither a package nor outside.
        const ok = !i.spec.startsWith('.') ? i.spec === '@tensorflow/tfjs' : i.file === null || under('src/engine')(i.file);
        expect(ok, `${f} imports ${i.spec}`).toBe(true);
      }
      expect(/\b(document|window|localStorage|indexedDB)\./.test(readFileSync(f, 'utf8')), `${f} touches the DOM`).toBe(false);
    }
  });

  it('the store and the app never import the UI', () => {
    const found = files
      .filter((f) => under('src/store')(f) || under('src/app')(f))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter((i) => i.file !== null && under('src/ui')(i.file))
          .map((i) => `${f} → ${i.file}`),
      );
    expect(found).toEqual([]);
  });

  it('the engine’s folders import one another in one direction only (no cycle between data, model, train, io…)', () => {
    // A file directly in src/engine (tf.ts, random.ts) counts as its own folder.
    const folderOf = (f: string) => f.slice('src/engine/'.length).split('/').slice(0, -1)[0] ?? f;
    const edges = new Map<string, Set<string>>();
    for (const f of files.filter(under('src/engine'))) {
      for (const i of graph.get(f)!) {
        if (i.file === null || !under('src/engine')(i.file)) continue;
        const [from, to] = [folderOf(f), folderOf(i.file)];
        if (from !== to) edges.set(from, new Set([...(edges.get(from) ?? []), to]));
      }
    }
    expect(edges.get('train'), 'the graph has folder edges to check').toBeDefined();
    expect(cycles(edges)).toEqual([]);
  });
});

describe('the worker boundary', () => {
  /** Files and packages `start` loads at run time, itself included (type-only imports load nothing). */
  const loads = (start: string): { files: Set<string>; packages: Set<string> } => {
    const seen = new Set<string>([start]);
    const packages = new Set<string>();
    for (const f of seen) {
      for (const i of graph.get(f) ?? []) {
        if (i.typeOnly) continue;
        if (i.file === null) packages.add(i.spec);
        else seen.add(i.file); // a Set iterates what is added while iterating
      }
    }
    return { files: seen, packages };
  };
  /** The worker's behaviour: the session, its runs, and what it holds (model owner, data, GPU guard). */
  const behaviour = files.filter(
    (f) => under('src/worker/session')(f) || under('src/worker/run')(f) || ['src/worker/owner.ts', 'src/worker/data.ts', 'src/worker/gpuGuard.ts'].includes(f),
  );
  const code = (f: string) =>
    readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');

  it('the worker’s behaviour uses no worker or DOM global: it speaks through the post it is given', () => {
    expect(behaviour).toContain('src/worker/session/WorkerSession.ts');
    expect(behaviour.length).toBeGreaterThan(8);
    const globals =
      /\b(self|globalThis|postMessage|onmessage|importScripts|DedicatedWorkerGlobalScope|MessageEvent|document|window|navigator|localStorage|indexedDB)\b/;
    for (const f of behaviour) expect(code(f).match(globals)?.[0], `${f} uses a worker or DOM global`).toBeUndefined();
  });

  it('the session loads TF.js only through the engine, and never a backend (the worker entry chooses it)', () => {
    const { files: loaded, packages } = loads('src/worker/session/WorkerSession.ts');
    expect(loaded.has('src/engine/tf.ts'), 'it trains through the engine').toBe(true);
    expect([...packages].filter((p) => p.startsWith('@tensorflow/'))).toEqual(['@tensorflow/tfjs']);
    for (const f of ['src/worker/backend.ts', 'src/worker/training.worker.ts', 'src/worker/client.ts'])
      expect(loaded.has(f), `the session loads ${f}`).toBe(false);
    expect([...loaded].filter((f) => !under('src/engine')(f) && !under('src/worker')(f))).toEqual([]);
  });

  it('training.worker.ts only wires the session to the worker: it alone touches the worker global', () => {
    const entry = graph
      .get('src/worker/training.worker.ts')!
      .filter((i) => !i.typeOnly)
      .map((i) => i.file ?? i.spec);
    expect(entry.sort()).toEqual(['src/worker/backend.ts', 'src/worker/session/WorkerSession.ts', 'src/worker/session/pump.ts']);
    const usingSelf = files.filter((f) => /\bself\.|\bdeclare const self\b/.test(code(f)));
    // kernelThreads.ts carries the script of its own helper workers (a string each helper runs as its whole
    // program): that `self` is the helper's global, not the training worker's.
    expect(usingSelf).toEqual(['src/engine/ops/kernelThreads.ts', 'src/worker/training.worker.ts']);
    expect(code('src/engine/ops/kernelThreads.ts')).toMatch(/const HELPER_SOURCE = `[^`]*\bself\b[^`]*`/);
  });
});
