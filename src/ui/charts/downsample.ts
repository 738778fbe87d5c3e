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

/** Rows of every run's metrics as CSV text. */
export function metricsCsv(runs: { name: string; phase: string; points: { globalStep: number; step: number; loss: number; lr: number; tokensPerSec: number }[]; evals: { globalStep: number; step: number; losses: Record<string, number> }[] }[]): string {
  const evalNames = [...new Set(runs.flatMap((r) => r.evals.flatMap((e) => Object.keys(e.losses))))].sort();
  const rows = [['run', 'phase', 'kind', 'global_step', 'step', 'loss', 'lr', 'tokens_per_sec', ...evalNames.map((n) => `eval_${n}`)].join(',')];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  for (const r of runs) {
    for (const p of r.points) rows.push([q(r.name), r.phase, 'step', p.globalStep, p.step, p.loss, p.lr, p.tokensPerSec.toFixed(1), ...evalNames.map(() => '')].join(','));
    for (const e of r.evals) rows.push([q(r.name), r.phase, 'eval', e.globalStep, e.step, '', '', '', ...evalNames.map((n) => e.losses[n] ?? '')].join(','));
  }
  return rows.join('\n') + '\n';
}
