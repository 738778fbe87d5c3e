import { evalBits, splitOf, type CharsPerToken } from './bits';

/**
 * Downsample a series for drawing: at most `max` points, each the mean of a bucket of consecutive
 * points (x of the bucket's last point), so long runs stay fast to render and the curve keeps its shape.
 */
export function downsample<T extends Record<string, number>>(points: T[], max: number, x: keyof T & string): T[] {
  if (points.length <= max) return points;
  const size = Math.ceil(points.length / max);
  const out: T[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    const mean = {} as Record<string, number>;
    for (const k of Object.keys(bucket[0])) mean[k] = bucket.reduce((a, p) => a + p[k], 0) / bucket.length;
    mean[x] = bucket[bucket.length - 1][x];
    out.push(mean as T);
  }
  return out;
}

interface CsvRun {
  name: string;
  phase: string;
  points: { globalStep: number; step: number; loss: number; lr: number; tokensPerSec: number; gradNorm?: number }[];
  evals: { globalStep: number; step: number; losses: Record<string, number>; accuracy?: Record<string, number> }[];
  diagnostics?: { globalStep: number; weightNorms: Partial<Record<string, number>>; tensors: number; bytes: number }[];
  /** The corpus's characters per token when the run started: its evaluations in bits per character. */
  charsPerToken?: CharsPerToken;
}

/**
 * Rows of every run's metrics as CSV text: one row per step (loss, lr, speed, gradient norm before clipping,
 * perplexity), per evaluation (losses and next-token accuracy) and per diagnostics sample (tensors and bytes
 * on the device, weight norm per group), and the corpus evaluations in bits per character (bpc_*).
 */
export function metricsCsv(runs: CsvRun[]): string {
  const evalNames = [...new Set(runs.flatMap((r) => r.evals.flatMap((e) => Object.keys(e.losses))))].sort();
  const groups = [...new Set(runs.flatMap((r) => (r.diagnostics ?? []).flatMap((d) => Object.keys(d.weightNorms))))];
  const bpcNames = evalNames.filter((n) => splitOf(n) !== null);
  const header = ['run', 'phase', 'kind', 'global_step', 'step', 'loss', 'lr', 'tokens_per_sec', ...evalNames.map((n) => `eval_${n}`), 'grad_norm', 'perplexity', ...evalNames.map((n) => `accuracy_${n}`), 'tensors', 'bytes', ...groups.map((g) => `weight_norm_${g}`), ...bpcNames.map((n) => `bpc_${n}`)];
  const rows = [header.join(',')];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const blank = (n: number) => new Array<string>(n).fill('');
  for (const r of runs) {
    for (const p of r.points) rows.push([q(r.name), r.phase, 'step', p.globalStep, p.step, p.loss, p.lr, p.tokensPerSec.toFixed(1), ...blank(evalNames.length), p.gradNorm ?? '', Math.exp(p.loss), ...blank(evalNames.length + 2 + groups.length + bpcNames.length)].join(','));
    for (const e of r.evals) rows.push([q(r.name), r.phase, 'eval', e.globalStep, e.step, '', '', '', ...evalNames.map((n) => e.losses[n] ?? ''), '', '', ...evalNames.map((n) => e.accuracy?.[n] ?? ''), ...blank(2 + groups.length), ...bpcNames.map((n) => (e.losses[n] === undefined ? '' : (evalBits(n, e.losses[n], r.charsPerToken) ?? '')))].join(','));
    for (const d of r.diagnostics ?? []) rows.push([q(r.name), r.phase, 'diagnostics', d.globalStep, '', '', '', '', ...blank(evalNames.length + 2 + evalNames.length), d.tensors, d.bytes, ...groups.map((g) => d.weightNorms[g] ?? ''), ...blank(bpcNames.length)].join(','));
  }
  return rows.join('\n') + '\n';
}
