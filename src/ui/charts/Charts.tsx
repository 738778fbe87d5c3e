import { Line, LineChart, ReferenceArea, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { overfitRegions } from './overfit';
import { Diagnostics } from './Diagnostics';
import { memo, useEffect, useRef, useState, type ReactElement } from 'react';
import { set, useStore, type RunRecord } from '../../store/store';
import { toBits, type CharsPerToken } from './bits';
import { Tip } from '../Field';
import { downsample } from './downsample';
import { COLORS } from './palette';
import { metricsCsv } from './metricsCsv';
import { labelGap, labelSide, placeMarkerLabels, type PlacedLabel } from './markers';
import { download, useRunsForDisplay, useT, type ShownRun } from '../hooks';
import { EVAL, type EvalName } from '../../engine/train/evalNames';

const MAX_POINTS = 150;

/**
 * A chart sized to its container. Measures with a ResizeObserver and redraws only when the width really
 * changes: cheaper than recharts' ResponsiveContainer, which re-measures on every render.
 */
function Sized({ height, children, ...rest }: { height: number; children: (width: number) => ReactElement } & Record<`data-${string}`, string | number>) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => setWidth((w) => (Math.abs(entry.contentRect.width - w) > 4 ? Math.floor(entry.contentRect.width) : w)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return (
    <div ref={ref} className="chart" style={{ height }} {...rest}>
      {width > 0 && children(width)}
    </div>
  );
}

/**
 * A tooltip whose lines (each curve's name: a strategy, "pairs train (full fine-tune)") wrap inside the chart on a
 * phone instead of running past the screen; it never starts left of the plot, 48 px of y axis in.
 */
const FITTED_TOOLTIP = { wrapperStyle: { maxWidth: 'calc(100% - 56px)' }, contentStyle: { whiteSpace: 'normal', fontSize: '0.85em' } } as const;

/** The line charts' margins around the plot (the y axis' own width comes on top of `left`). */
const CHART_MARGIN = { top: 10, right: 20, bottom: 5, left: 0 };

/** The legend's key to line styles (solid, dashed): a neutral grey, no run's colour. */
const LINE_STYLE_KEY = '#6b7280';

type XY = { x: number; y: number };

/** Smooth a noisy per-step loss with an exponential moving average (display only). */
function ema(points: XY[], alpha = 0.1): XY[] {
  let m = points[0]?.y ?? 0;
  return points.map((p) => ({ x: p.x, y: (m = alpha * p.y + (1 - alpha) * m) }));
}

function evalSeries(r: RunRecord, name: EvalName, x: 'globalStep' | 'step'): XY[] {
  return r.evals.filter((e) => e.losses[name] !== undefined).map((e) => ({ x: e[x], y: e.losses[name] }));
}

const MARKER_LABEL = { maxChars: 20, maxLanes: 4, lanePx: 13 };
/** The plot's width is the chart's less the y axis (48) and the right margin (20). */
const PLOT_INSET_PX = 68;

/** Lanes for the marker labels at this chart width, so that close markers' labels do not print over each other. */
function markerLabels(markers: ShownRun['markers'], lines: { data: XY[] }[], width: number): PlacedLabel[] {
  const xs = lines.flatMap((l) => l.data.map((p) => p.x));
  const domain = xs.length ? ([Math.min(...xs), Math.max(...xs)] as const) : ([0, 0] as const);
  const minGap = labelGap(
    markers.map((m) => m.label),
    MARKER_LABEL.maxChars,
    width - PLOT_INSET_PX,
  );
  return placeMarkerLabels(
    markers.map((m) => ({ x: m.globalStep, label: m.label })),
    { ...MARKER_LABEL, domain, minGap },
  );
}

/** A marker's label in its lane below the plot's top; recharts passes the line's viewBox. */
function MarkerText({ viewBox, lane, text, full, right }: { viewBox?: { x: number; y: number }; lane: number; text: string; full: string; right: number }) {
  if (!viewBox) return null;
  const side = labelSide(viewBox.x, text, right);
  return (
    // A white halo under the letters: the label stays readable where a curve runs behind it (a fine-tune's curve
    // starts at the top of the plot, right where its "fine-tuning starts" label sits).
    <text
      x={side.x}
      textAnchor={side.anchor}
      y={viewBox.y + 11 + lane * MARKER_LABEL.lanePx}
      fontSize={11}
      fill="#374151"
      stroke="#fff"
      strokeWidth={3}
      paintOrder="stroke"
    >
      {/* the drawn text may be shortened; hovering shows it whole */}
      <title>{full}</title>
      {text}
    </text>
  );
}

/** The main chart: loss against the model's total step, across pretraining and fine-tuning. */
/** `height`: of the plot in px (the lesson draws it lower, to share one screen with the quiz). */
export const LossChart = memo(function LossChart({ height = 280 }: { height?: number }) {
  const t = useT();
  const runs = useRunsForDisplay();
  // Tooltips cost a lot of layout per redraw; they are offered when training is not running.
  const training = useStore((s) => s.run.status === 'running');
  // Bits per character: pretraining curves only, each with the characters per token it was trained on
  // (a starter's curve, kept before any run, takes the current model's: it is that model's own).
  const bpc = useStore((s) => s.tokenizer.bitsPerChar);
  const currentCpt = useStore((s) => s.tokenizer.info?.charsPerToken);
  const cptOf = (r: ShownRun): CharsPerToken | undefined => (bpc ? (r.charsPerToken ?? currentCpt) : undefined);
  const unit = (d: XY[], cpt: number | undefined): XY[] => (bpc && cpt ? d.map((p) => ({ x: p.x, y: toBits(p.y, cpt) })) : d);
  const main = runs.filter((r) => !r.compare && !r.hidden && (!bpc || (r.phase === 'pretrain' && cptOf(r))));
  const lines: { key: string; name: string; data: XY[]; color: string; dashed?: boolean; dots?: boolean }[] = [];
  // A starter's own curve (a reference) is drawn only over the steps this session trains: next to the
  // student's own pretraining it compares; during a fine-tune it would squeeze the run into the right edge.
  const own = main.filter((r) => !r.reference);
  const ownXs = own.flatMap((r) => [...r.points.map((p) => p.globalStep), ...r.evals.map((e) => e.globalStep)]);
  const inView = (d: XY[]) => (ownXs.length ? d.filter((p) => p.x >= Math.min(...ownXs) && p.x <= Math.max(...ownXs)) : d);
  for (const r of main.filter((x) => x.reference)) {
    // Progress snapshots every ~150 steps, already averaged by the trainer's log: drawn as they are. A series
    // with fewer than two points in view is left out, legend entry and all: at the start of a fine-tune only the
    // starter's last point touches the chart, and a legend naming a curve no one can see misleads.
    const cpt = cptOf(r);
    const train = inView(r.points.map((p) => ({ x: p.globalStep, y: p.loss })));
    const val = inView(evalSeries(r, EVAL.val, 'globalStep'));
    if (train.length >= 2)
      lines.push({ key: `${r.runId}-train`, name: `${r.name}: ${t('chart.train')}`, data: unit(train, cpt?.train), color: '#6b7280', dashed: true });
    if (val.length >= 2)
      lines.push({ key: `${r.runId}-val`, name: `${r.name}: ${t('chart.val')}`, data: unit(val, cpt?.val), color: '#9ca3af', dashed: true, dots: true });
  }
  const tunes = own.filter((r) => r.phase === 'finetune').length;
  for (const r of own) {
    const pts = downsample(
      r.points.map((p) => ({ x: p.globalStep, y: p.loss })),
      MAX_POINTS,
      'x',
    );
    if (r.phase === 'pretrain') {
      const cpt = cptOf(r);
      lines.push({ key: `${r.runId}-train`, name: t('chart.train'), data: unit(ema(pts), cpt?.train), color: COLORS[0] });
      lines.push({ key: `${r.runId}-val`, name: t('chart.val'), data: unit(evalSeries(r, EVAL.val, 'globalStep'), cpt?.val), color: COLORS[1], dots: true });
    } else {
      lines.push({ key: `${r.runId}-ptrain`, name: `${t('chart.pairsTrain')} (${r.name})`, data: ema(pts), color: COLORS[2] });
      lines.push({
        key: `${r.runId}-pval`,
        name: `${t('chart.pairsVal')} (${r.name})`,
        data: evalSeries(r, EVAL.pairsVal, 'globalStep'),
        color: COLORS[3],
        dots: true,
      });
      lines.push({
        key: `${r.runId}-cval`,
        // Named by its run where the chart has several fine-tunes (two legend entries alike told nothing apart).
        name: tunes > 1 ? `${t('chart.corpusVal')}: ${r.name}` : t('chart.corpusVal'),
        data: evalSeries(r, EVAL.corpusVal, 'globalStep'),
        color: COLORS[4],
        dashed: true,
        dots: true,
      });
    }
  }
  const markers = main.flatMap((r) => r.markers.filter((m) => m.globalStep >= 0));
  // Held-out loss rising while the training loss falls: shaded, and said in one line.
  const overfit = own.flatMap((r) =>
    r.phase === 'pretrain' ? overfitRegions(r.evals, EVAL.train, EVAL.val) : overfitRegions(r.evals, EVAL.pairsTrain, EVAL.pairsVal),
  );
  const hasData = lines.some((l) => l.data.length > 0);
  return (
    <section className="panel chart-panel" aria-labelledby="chart-title">
      <div className="row between">
        <h2 id="chart-title">{t('chart.title')}</h2>
        <label className="check small">
          <input
            type="checkbox"
            data-testid="bpc-toggle"
            checked={bpc}
            onChange={(e) => set((s) => ({ tokenizer: { ...s.tokenizer, bitsPerChar: e.target.checked } }))}
          />{' '}
          {t('chart.bpc')} <Tip>{t('chart.bpcTip')}</Tip>
        </label>
        <button type="button" disabled={!runs.length} onClick={() => download('small-gpt-metrics.csv', metricsCsv(runs), 'text/csv')}>
          {t('chart.csv')}
        </button>
      </div>
      {!hasData && <p className="muted">{t('chart.empty')}</p>}
      <Sized
        height={height}
        data-testid="loss-chart"
        data-unit={bpc ? 'bpc' : 'loss'}
        data-points={main.reduce((a, r) => a + r.points.length, 0)}
        data-markers={markers.length}
      >
        {(width) => {
          const labels = markerLabels(markers, lines, width);
          return (
            <LineChart width={width} height={height} margin={CHART_MARGIN}>
              {/* interval={0}: draw every tick without measuring label sizes, which forces a page layout per new label */}
              <XAxis type="number" dataKey="x" domain={['dataMin', 'dataMax']} allowDecimals={false} interval={0} tickCount={6} />
              <YAxis domain={['auto', 'auto']} width={48} interval={0} tickCount={5} tickFormatter={(v: number) => v.toFixed(2)} />
              {!training && (
                <Tooltip
                  formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))}
                  labelFormatter={(l) => `${t('chart.step')} ${l}`}
                  {...FITTED_TOOLTIP}
                />
              )}
              {lines
                .filter((l) => l.data.length)
                .map((l) => (
                  <Line
                    key={l.key}
                    data={l.data}
                    dataKey="y"
                    name={l.name}
                    stroke={l.color}
                    strokeDasharray={l.dashed ? '5 4' : undefined}
                    dot={l.dots && !training ? { r: 2 } : false}
                    activeDot={false}
                    isAnimationActive={false}
                    strokeWidth={1.5}
                  />
                ))}
              {overfit.map((o, i) => (
                <ReferenceArea key={`o${i}`} x1={o.from} x2={o.to} fill="#f87171" fillOpacity={0.15} stroke="none" />
              ))}
              {markers.map((m, i) => {
                const { lane, text, full } = labels[i];
                const label = lane === null ? false : <MarkerText lane={lane} text={text} full={full} right={width - CHART_MARGIN.right} />;
                return (
                  <ReferenceLine
                    key={i}
                    x={m.globalStep}
                    stroke={m.kind === 'phase' ? '#111' : m.kind === 'breakpoint' ? '#dc2626' : '#9333ea'}
                    strokeDasharray="4 3"
                    label={label}
                  />
                );
              })}
            </LineChart>
          );
        }}
      </Sized>
      <HtmlLegend items={lines.filter((l) => l.data.length).map((l) => ({ key: l.key, name: l.name, color: l.color, dashed: l.dashed }))} />
      {overfit.length > 0 && (
        <p className="warning small" data-testid="overfit-note">
          {t('chart.overfit', { from: overfit[0].from, to: overfit[overfit.length - 1].to })}
        </p>
      )}
      <SmallCharts />
      <Diagnostics />
    </section>
  );
});

/** A legend in HTML: cheaper than recharts' own, which measures itself on every redraw. */
function HtmlLegend({ items }: { items: { key: string; name: string; color: string; dashed?: boolean }[] }) {
  return (
    <ul className="legend">
      {items.map((i) => (
        <li key={i.key}>
          <span className="swatch" style={{ borderTopColor: i.color, borderTopStyle: i.dashed ? 'dashed' : 'solid' }} />
          {i.name}
        </li>
      ))}
    </ul>
  );
}

/**
 * Learning rate and tokens/s as two small sparklines. Hand-drawn SVG rather than recharts: measured on a
 * 2-core machine while the worker trains, these two extra recharts charts alone turned every redraw into
 * a 50–80 ms main-thread task; a polyline costs about a millisecond.
 */
const SmallCharts = memo(function SmallCharts() {
  const t = useT();
  const runs = useRunsForDisplay().filter((r) => !r.compare && !r.hidden && !r.reference);
  const lr = runs.flatMap((r) =>
    downsample(
      r.points.map((p) => ({ x: p.globalStep, y: p.lr })),
      MAX_POINTS,
      'x',
    ),
  );
  const tps = runs.flatMap((r) =>
    downsample(
      r.points.map((p) => ({ x: p.globalStep, y: p.tokensPerSec })),
      MAX_POINTS,
      'x',
    ),
  );
  // Nothing trained in this page yet (a starter's own curve has neither): no two empty headings under the chart.
  if (!lr.length && !tps.length) return null;
  return (
    <div className="grid2" data-testid="small-charts">
      <Sparkline title={t('chart.lr')} data={lr} color={COLORS[5]} format={(v) => v.toExponential(2)} />
      <Sparkline title={t('chart.tps')} data={tps} color={COLORS[6]} format={(v) => String(Math.round(v))} />
    </div>
  );
});

export function Sparkline({ title, data, color, format }: { title: string; data: XY[]; color: string; format: (v: number) => string }) {
  const W = 300;
  const H = 70;
  if (!data.length)
    return (
      <div>
        <h3>{title}</h3>
      </div>
    );
  const xs = data.map((p) => p.x);
  const ys = data.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * W : 0);
  const sy = (y: number) => (y1 > y0 ? H - ((y - y0) / (y1 - y0)) * (H - 4) - 2 : H / 2);
  return (
    <div>
      <h3>
        {title}: {format(ys[ys.length - 1])}{' '}
        <span className="muted small">
          ({format(y0)} – {format(y1)})
        </span>
      </h3>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="sparkline" role="img" aria-label={title}>
        <polyline
          fill="none"
          stroke={color}
          strokeWidth={1.5}
          vectorEffect="non-scaling-stroke"
          points={data.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}
        />
      </svg>
    </div>
  );
}

/** Pure: the fine-tuning runs the comparison chart draws (not hidden), in order. */
const comparedRuns = <R extends Pick<ShownRun, 'phase' | 'hidden'>>(all: readonly R[]): R[] => all.filter((r) => r.phase === 'finetune' && !r.hidden);

/**
 * Pure: each drawn run's colour in the comparison chart, by run id (a hidden run has none), so that the runs table
 * can show it beside the run's name.
 */
export function compareColors(all: readonly Pick<ShownRun, 'runId' | 'phase' | 'hidden'>[]): Map<string, string> {
  return new Map(comparedRuns(all).map((r, i) => [r.runId, COLORS[i % COLORS.length]]));
}

/**
 * Pure: the comparison's step axis — square-root scaled where its runs' lengths differ threefold or more (the
 * lesson's long fine-tune has five times the others' steps: on a linear axis their curves took its first fifth),
 * with how many times longer the longest is, and its ticks: 0, each run's length (where the strategies end), and
 * round steps between, none closer to another than 8 % of the axis or 36 px of its `axisPx` (a phone's chart has room
 * for fewer labels); linear (ticks left to the chart) otherwise.
 */
export function compareStepScale(runs: readonly Pick<ShownRun, 'steps'>[], axisPx = 600): { scale: 'linear' | 'sqrt'; times: number; ticks?: number[] } {
  const lengths = runs.map((r) => r.steps).filter((n) => n > 0);
  const times = lengths.length ? Math.max(...lengths) / Math.min(...lengths) : 1;
  if (times < 3) return { scale: 'linear', times };
  const max = Math.max(...lengths);
  const magnitude = 10 ** Math.floor(Math.log10(max / 5));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 6)!;
  const round = Array.from({ length: Math.floor(max / step) }, (_, i) => (i + 1) * step);
  const at = (v: number) => Math.sqrt(v / max);
  const gap = Math.max(0.08, 36 / axisPx);
  const ticks: number[] = [];
  for (const v of [0, max, ...new Set(lengths), ...round]) if (ticks.every((k) => Math.abs(at(k) - at(v)) >= gap)) ticks.push(v);
  return { scale: 'sqrt', times, ticks: ticks.sort((a, b) => a - b) };
}

/** Strategy comparison: pairs-val and corpus-val of each fine-tuning run, against its own step. */
export const CompareChart = memo(function CompareChart({ runs: all, tooltip = true, height = 240 }: { runs: ShownRun[]; tooltip?: boolean; height?: number }) {
  const t = useT();
  const runs = comparedRuns(all);
  const colors = compareColors(all);
  if (!runs.length) return null;
  const { scale, times } = compareStepScale(runs);
  // The legend names each run once, in its colour (the runs table shows the same colour beside its name), and the
  // two line styles once: two entries a run, each with the run's name, made a wall of text a student had to decode.
  const legend = [
    ...runs.map((r) => ({ key: r.runId, name: r.name, color: colors.get(r.runId)! })),
    { key: 'pairs', name: t('chart.pairsVal'), color: LINE_STYLE_KEY },
    { key: 'corpus', name: t('chart.corpusVal'), color: LINE_STYLE_KEY, dashed: true },
  ];
  return (
    <>
      <Sized height={height} data-testid="compare-chart" data-curves={runs.length} data-scale={scale}>
        {(width) => (
          <LineChart width={width} height={height} margin={CHART_MARGIN}>
            <XAxis
              type="number"
              dataKey="x"
              scale={scale}
              ticks={compareStepScale(runs, width - PLOT_INSET_PX).ticks}
              domain={[0, 'dataMax']}
              allowDecimals={false}
              interval={0}
              tickCount={6}
            />
            <YAxis domain={['auto', 'auto']} width={48} interval={0} tickCount={5} tickFormatter={(v: number) => v.toFixed(2)} />
            {/* A projector's pointer left resting on the chart covered it with a dozen lines: the presentation has none. */}
            {tooltip && (
              <Tooltip
                formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))}
                labelFormatter={(l) => `${t('chart.step')} ${l}`}
                {...FITTED_TOOLTIP}
              />
            )}
            {runs.map((r) => [
              <Line
                key={`${r.runId}-p`}
                data={evalSeries(r, EVAL.pairsVal, 'step')}
                dataKey="y"
                name={`${r.name}: ${t('chart.pairsVal')}`}
                stroke={colors.get(r.runId)}
                isAnimationActive={false}
              />,
              <Line
                key={`${r.runId}-c`}
                data={evalSeries(r, EVAL.corpusVal, 'step')}
                dataKey="y"
                name={`${r.name}: ${t('chart.corpusVal')}`}
                stroke={colors.get(r.runId)}
                strokeDasharray="5 4"
                isAnimationActive={false}
              />,
            ])}
          </LineChart>
        )}
      </Sized>
      <HtmlLegend items={legend} />
      {scale === 'sqrt' && (
        <p className="muted small" data-testid="compare-scale">
          {t('chart.sqrtSteps', { times: Math.round(times) })}
        </p>
      )}
    </>
  );
});
