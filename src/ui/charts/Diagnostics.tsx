/**
 * Training diagnostics, each a small chart the student turns on when it helps: perplexity, next-token
 * accuracy (train and held-out), the gradient norm before clipping with the clip threshold, each group's
 * weight norm, and memory on the device. Hand-drawn SVG like the other small charts: they cost about a
 * millisecond to redraw, so turning them on keeps the page as responsive as before.
 */
import { memo } from 'react';
import { set, useStore } from '../../store/store';
import { downsample } from './downsample';
import { COLORS } from './palette';
import { useRunsForDisplay, useT, type ShownRun } from '../hooks';
import { EVAL } from '../../engine/train/evalNames';
import type { Key } from '../../i18n/i18n';

export const DIAGNOSTICS = ['perplexity', 'accuracy', 'gradNorm', 'weightNorms', 'memory'] as const;
export type DiagnosticName = (typeof DIAGNOSTICS)[number];

/** The global-norm clip the trainer applies (TrainSpec.clip's default). */
const CLIP = 1;
const MAX_POINTS = 150;

type XY = { x: number; y: number };
interface Series {
  name: string;
  data: XY[];
  color: string;
}

const TITLES: Record<DiagnosticName, Key> = {
  perplexity: 'diag.perplexity',
  accuracy: 'diag.accuracy',
  gradNorm: 'diag.gradNorm',
  weightNorms: 'diag.weightNorms',
  memory: 'diag.memory',
};

function seriesFor(name: DiagnosticName, runs: ShownRun[], t: ReturnType<typeof useT>): Series[] {
  const pts = (f: (r: ShownRun) => XY[]) => runs.flatMap((r) => downsample(f(r), MAX_POINTS, 'x'));
  switch (name) {
    case 'perplexity':
      return [{ name: t('diag.perplexity'), color: COLORS[0], data: pts((r) => r.points.map((p) => ({ x: p.globalStep, y: Math.exp(p.loss) }))) }];
    case 'gradNorm':
      return [
        {
          name: t('diag.gradNorm'),
          color: COLORS[3],
          data: pts((r) => r.points.filter((p) => p.gradNorm !== undefined).map((p) => ({ x: p.globalStep, y: p.gradNorm! }))),
        },
      ];
    case 'accuracy': {
      const acc = (train: boolean) => (r: ShownRun) =>
        r.evals.flatMap((e) => {
          const key = r.phase === 'pretrain' ? (train ? EVAL.train : EVAL.val) : train ? EVAL.pairsTrain : EVAL.pairsVal;
          const v = e.accuracy?.[key];
          return v === undefined ? [] : [{ x: e.globalStep, y: v * 100 }];
        });
      return [
        { name: t('diag.train'), color: COLORS[0], data: runs.flatMap(acc(true)) },
        { name: t('diag.val'), color: COLORS[1], data: runs.flatMap(acc(false)) },
      ];
    }
    case 'weightNorms': {
      const groups = [...new Set(runs.flatMap((r) => (r.diagnostics ?? []).flatMap((d) => Object.keys(d.weightNorms))))];
      return groups.map((g, i) => ({
        name: g,
        color: COLORS[i % COLORS.length],
        data: pts((r) =>
          (r.diagnostics ?? []).map((d) => ({ x: d.globalStep, y: d.weightNorms[g as keyof typeof d.weightNorms] ?? NaN })).filter((p) => Number.isFinite(p.y)),
        ),
      }));
    }
    case 'memory':
      return [
        { name: t('diag.megabytes'), color: COLORS[5], data: pts((r) => (r.diagnostics ?? []).map((d) => ({ x: d.globalStep, y: d.bytes / 1048576 }))) },
        { name: t('diag.tensors'), color: COLORS[6], data: pts((r) => (r.diagnostics ?? []).map((d) => ({ x: d.globalStep, y: d.tensors }))) },
      ];
  }
}

export const Diagnostics = memo(function Diagnostics() {
  const t = useT();
  const shown = useStore((s) => s.diagnostics);
  const runs = useRunsForDisplay().filter((r) => !r.compare && !r.hidden && !r.reference);
  return (
    <div className="diagnostics" data-testid="diagnostics">
      <div className="row small">
        <span className="muted">{t('diag.show')}</span>
        {DIAGNOSTICS.map((d) => (
          <label key={d}>
            <input
              type="checkbox"
              data-testid={`diag-${d}`}
              checked={shown[d]}
              onChange={(e) => set((s) => ({ diagnostics: { ...s.diagnostics, [d]: e.target.checked } }))}
            />{' '}
            {t(TITLES[d])}
          </label>
        ))}
      </div>
      <div className="grid2">
        {DIAGNOSTICS.filter((d) => shown[d]).map((d) => (
          <MultiSpark
            key={d}
            testId={`diag-chart-${d}`}
            title={t(TITLES[d])}
            series={seriesFor(d, runs, t)}
            refY={d === 'gradNorm' ? { y: CLIP, label: t('diag.clip', { clip: CLIP }) } : undefined}
            independent={d === 'memory'}
            waiting={t('diag.waiting')}
          />
        ))}
      </div>
    </div>
  );
});

/** Several series on one small SVG chart, one scale per series (memory: MB and tensors), an optional threshold line. */
function MultiSpark({
  title,
  series,
  refY,
  testId,
  independent = false,
  waiting,
}: {
  title: string;
  series: Series[];
  refY?: { y: number; label: string };
  testId: string;
  independent?: boolean;
  /** Said in place of the chart while nothing is drawn (no run in this page yet). */
  waiting: string;
}) {
  const W = 300;
  const H = 70;
  const drawn = series.filter((s) => s.data.length);
  const xs = drawn.flatMap((s) => s.data.map((p) => p.x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const sx = (x: number) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * W : 0);
  // One y scale for series of one kind (per-group norms, train/held-out accuracy); memory's MB and tensor
  // count are different units, each on its own scale.
  const scale = (data: XY[]) => {
    const ys = (independent ? data : drawn.flatMap((s) => s.data)).map((p) => p.y).concat(refY ? [refY.y] : []);
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    return (y: number) => (y1 > y0 ? H - ((y - y0) / (y1 - y0)) * (H - 4) - 2 : H / 2);
  };
  const last = (s: Series) => s.data[s.data.length - 1]?.y;
  const fmt = (v: number | undefined) => (v === undefined ? '–' : Math.abs(v) >= 100 ? String(Math.round(v)) : v.toPrecision(3));
  return (
    <div data-testid={testId}>
      <h3>
        {title}{' '}
        {drawn.map((s) => (
          <span key={s.name} className="small" style={{ color: s.color }}>
            {drawn.length > 1 ? `${s.name} ` : ''}
            {fmt(last(s))}{' '}
          </span>
        ))}
      </h3>
      {drawn.length > 0 && (
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="sparkline" role="img" aria-label={title}>
          {refY &&
            (() => {
              const y = scale(drawn[0].data)(refY.y);
              return (
                <line x1={0} x2={W} y1={y} y2={y} stroke="#9ca3af" strokeDasharray="4 3" vectorEffect="non-scaling-stroke">
                  <title>{refY.label}</title>
                </line>
              );
            })()}
          {drawn.map((s) => {
            const sy = scale(s.data);
            return (
              <polyline
                key={s.name}
                fill="none"
                stroke={s.color}
                strokeWidth={1.5}
                vectorEffect="non-scaling-stroke"
                points={s.data.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}
              />
            );
          })}
        </svg>
      )}
      {drawn.length === 0 && <p className="muted small">{waiting}</p>}
      {refY && drawn.length > 0 && <p className="muted small">{refY.label}</p>}
    </div>
  );
}
