/**
 * The import graph of a source tree, read from the text of its .ts/.tsx files: enough to check the
 * architecture's rules without a bundler. Relative specifiers resolve as the bundler resolves them
 * (the path itself, then .ts, .tsx, index.ts, index.tsx); anything else is a package.
 *
 * A `new Worker(new URL(...))` is deliberately not an edge: the worker runs in its own context, so the
 * page that starts it does not load its code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export interface Import {
  spec: string;
  /** The file a relative specifier resolves to (repo-relative, '/' separated); null for a package. */
  file: string | null;
  /** `import type` / `export type`, or braces whose every name is `type`: erased, so it loads nothing. */
  typeOnly: boolean;
}

/** File → its imports. */
export type Graph = Map<string, Import[]>;

const posix = (p: string) => p.split(sep).join('/');

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(f) ? [posix(p)] : [];
  });
}

// `import x, { a, type B } from '…'`, `import * as x from '…'`, `export { a } from '…'`, `export * from '…'`,
// each possibly `type`-only and spread over several lines; then side-effect and dynamic imports.
const FROM = /^[ \t]*(?:import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\}|[\w$]+))\s+from\s*['"]([^'"]+)['"]/gm;
const BARE = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every specifier a source text imports or re-exports. */
export function parseImports(text: string): { spec: string; typeOnly: boolean }[] {
  const allTypes = (clause: string) =>
    /^\{[^}]*\}$/.test(clause) &&
    clause
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .every((s) => s.startsWith('type '));
  return [
    ...[...text.matchAll(FROM)].map((m) => ({ spec: m[3], typeOnly: Boolean(m[1]) || allTypes(m[2]) })),
    ...[...text.matchAll(BARE)].map((m) => ({ spec: m[1], typeOnly: false })),
    ...[...text.matchAll(DYNAMIC)].map((m) => ({ spec: m[1], typeOnly: false })),
  ];
}

/** The file a relative specifier names, or null when none exists. */
function resolve(from: string, spec: string): string | null {
  const base = join(dirname(from), spec);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return found === undefined ? null : posix(relative('.', found));
}

export function importGraph(dir: string): { graph: Graph; unresolved: string[] } {
  const graph: Graph = new Map();
  const unresolved: string[] = [];
  for (const f of sourceFiles(dir)) {
    graph.set(
      f,
      parseImports(readFileSync(f, 'utf8')).map(({ spec, typeOnly }) => {
        if (!spec.startsWith('.')) return { spec, file: null, typeOnly };
        const file = resolve(f, spec);
        if (file === null) unresolved.push(`${f} imports ${spec}`);
        return { spec, file, typeOnly };
      }),
    );
  }
  return { graph, unresolved };
}

/**
 * The files that load a package matching `isTarget` at run time, directly or through other files, each
 * with one chain of imports that proves it. Type-only imports are not followed: they load nothing.
 */
export function reaching(graph: Graph, isTarget: (pkg: string) => boolean): Map<string, string[]> {
  // Breadth-first from the files that import the package, along runtime imports read backwards.
  const importers = new Map<string, string[]>();
  const chains = new Map<string, string[]>();
  for (const [f, imports] of graph) {
    for (const i of imports) {
      if (i.typeOnly) continue;
      if (i.file !== null) importers.set(i.file, [...(importers.get(i.file) ?? []), f]);
      else if (isTarget(i.spec) && !chains.has(f)) chains.set(f, [f, i.spec]);
    }
  }
  const queue = [...chains.keys()];
  for (const f of queue) {
    for (const importer of importers.get(f) ?? []) {
      if (chains.has(importer)) continue;
      chains.set(importer, [importer, ...chains.get(f)!]);
      queue.push(importer);
    }
  }
  return chains;
}

/** The cycles of a directed graph given as node → neighbours: its strongly connected components of two or more nodes. */
export function cycles(edges: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) strong(v);
  return out;
}
