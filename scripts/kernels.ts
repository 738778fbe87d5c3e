/**
 * Assembles the engine's hand-written WebAssembly kernels (`src/engine/ops/kernels/*.wat`) with WABT's
 * JavaScript build, and renders the TypeScript module that carries the bytes (base64) into the app.
 * Used by `npm run build:kernels` (writes the modules) and by a test that re-assembles each source and
 * checks the committed bytes are exactly its output, so the binary can never drift from its source.
 *
 * Each source is assembled in variants, made from its text by the rewrites below, so there is one source
 * to read and test:
 *   plain      imports TF.js's memory as the single-threaded build has it (not shared)
 *   shared     imports it as the threaded build has it (shared, up to 4 GiB), so other threads can run it too
 *   fma        (sources marked fma) each multiply-then-add of the source as one fused multiply-add
 *              (relaxed SIMD's f32x4.relaxed_madd), for engines that have it
 *   fmaShared  both
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export type KernelVariant = 'plain' | 'shared' | 'fma' | 'fmaShared';

export interface KernelSource {
  /** The text source, relative to the repository root. */
  wat: string;
  /** The generated TypeScript module, relative to the repository root. */
  module: string;
  /** Also assemble the fused multiply-add variants (the source has multiply-adds worth fusing). */
  fma?: boolean;
}

export const KERNELS: readonly KernelSource[] = [
  { wat: 'src/engine/ops/kernels/bmm.wat', module: 'src/engine/ops/kernels/bmm.wasm.ts', fma: true },
  { wat: 'src/engine/ops/kernels/gelu.wat', module: 'src/engine/ops/kernels/gelu.wasm.ts' },
  { wat: 'src/engine/ops/kernels/adamw.wat', module: 'src/engine/ops/kernels/adamw.wasm.ts' },
  { wat: 'src/engine/ops/kernels/layerNorm.wat', module: 'src/engine/ops/kernels/layerNorm.wasm.ts' },
  { wat: 'src/engine/ops/kernels/softmax.wat', module: 'src/engine/ops/kernels/softmax.wasm.ts' },
  { wat: 'src/engine/ops/kernels/heads.wat', module: 'src/engine/ops/kernels/heads.wasm.ts' },
  { wat: 'src/engine/ops/kernels/crossEntropy.wat', module: 'src/engine/ops/kernels/crossEntropy.wasm.ts' },
  { wat: 'src/engine/ops/kernels/elementwise.wat', module: 'src/engine/ops/kernels/elementwise.wasm.ts' },
];

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The variants a source is assembled in. */
export function variantsOf(kernel: KernelSource): KernelVariant[] {
  return kernel.fma ? ['plain', 'shared', 'fma', 'fmaShared'] : ['plain', 'shared'];
}

const PLAIN_MEMORY = '(import "env" "memory" (memory 0))';
/** The threaded build's memory: shared, so it must declare a maximum; Emscripten's is 4 GiB (65536 pages). */
const SHARED_MEMORY = '(import "env" "memory" (memory 0 65536 shared))';
/** `(f32x4.add (local.get $acc) (f32x4.mul (local.get $a) (local.get $b)))`: acc + a·b, rounded twice. */
const MULTIPLY_ADD = /\(f32x4\.add \(local\.get (\$\w+)\) \(f32x4\.mul \(local\.get (\$\w+)\) \(local\.get (\$\w+)\)\)\)/g;

/** The text of one variant. Throws where the source lacks what the rewrite replaces, so a variant cannot silently equal plain. */
export function variantText(source: string, variant: KernelVariant, name = 'kernel'): string {
  let text = source;
  if (variant === 'shared' || variant === 'fmaShared') {
    if (text.split(PLAIN_MEMORY).length !== 2) throw new Error(`${name}: expected exactly one ${PLAIN_MEMORY}`);
    text = text.replace(PLAIN_MEMORY, SHARED_MEMORY);
  }
  if (variant === 'fma' || variant === 'fmaShared') {
    if (!MULTIPLY_ADD.test(text)) throw new Error(`${name}: no (f32x4.add acc (f32x4.mul a b)) to fuse`);
    MULTIPLY_ADD.lastIndex = 0;
    text = text.replace(MULTIPLY_ADD, '(f32x4.relaxed_madd (local.get $2) (local.get $3) (local.get $1))'); // a·b + acc
  }
  return text;
}

/** SIMD and bulk memory always; shared memory and relaxed SIMD for the variants that use them. */
const FEATURES = { simd: true, bulk_memory: true, threads: true, relaxed_simd: true };

/** The binary WABT makes of one variant of one .wat file (no debug names, so it is stable). */
export async function assemble(watPath: string, variant: KernelVariant = 'plain'): Promise<Uint8Array> {
  const api = await wabt();
  const text = variantText(readFileSync(ROOT + watPath, 'utf8'), variant, watPath);
  const module = api.parseWat(watPath, text, FEATURES);
  try {
    module.resolveNames();
    (module.validate as (features: object) => void)(FEATURES); // the typings omit its features argument
    return Uint8Array.from(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

/** Every variant of one kernel, in variantsOf order. */
export async function assembleAll(kernel: KernelSource): Promise<Map<KernelVariant, Uint8Array>> {
  const out = new Map<KernelVariant, Uint8Array>();
  for (const v of variantsOf(kernel)) out.set(v, await assemble(kernel.wat, v));
  return out;
}

/** The TypeScript module text that carries the variants' bytes. */
export function renderModule(kernel: KernelSource, binaries: Map<KernelVariant, Uint8Array>): string {
  const entries = [...binaries].map(([variant, bytes]) => {
    const lines =
      Buffer.from(bytes)
        .toString('base64')
        .match(/.{1,100}/g) ?? [];
    return `  // ${bytes.length} bytes\n  ${variant}:\n${lines.map((l) => `    '${l}'`).join(' +\n')},`;
  });
  return [
    `// Generated by \`npm run build:kernels\` from ${kernel.wat.split('/').pop()}: do not edit.`,
    '// WebAssembly, base64, in each variant (see scripts/kernels.ts).',
    "import type { KernelBinaries } from '../wasmKernels';",
    '',
    'export const WASM_BASE64: KernelBinaries = {',
    ...entries,
    '};',
    '',
  ].join('\n');
}
