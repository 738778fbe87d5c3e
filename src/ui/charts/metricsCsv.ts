/**
 * The chart data as CSV: one row per step (loss, lr, speed, gradient norm before clipping, perplexity), per
 * evaluation (losses, next-token accuracy, the corpus evaluations in bits per character) and per diagnostics
 * sample (tensors and bytes on the device, weight norm per group).
 *
 * Built from column definitions: each column says its header and its cell for any row, so every row has
 * every column in the header's order — a column added anywhere cannot shift the cells of another kind of row.
 */
import { evalBits, splitOf, type CharsPerToken } from './bits';

export interface CsvRun {
  name: string;
  phase: string;
  points: { globalStep: number; step: number; loss: number; lr: number; tokensPerSec: number; gradNorm?: number }[];
  evals: { globalStep: number; step: number; losses: Record<string, number>; accuracy?: Record<string, number> }[];
  diagnostics?: { globalStep: number; weightNorms: Partial<Record<string, number>>; tensors: number; bytes: number }[];
  /** The corpus's characters per token when the run started: its evaluations in bits per character. */
  charsPerToken?: CharsPerToken;
}

type Step = CsvRun['points'][number];
type Eval = CsvRun['evals'][number];
type Sample = NonNullable<CsvRun['diagnostics']>[number];

/** One line of the file: a run's step, evaluation or diagnostics sample. */
export type MetricsRow = { run: CsvRun } & ({ kind: 'step'; step: Step } | { kind: 'eval'; eval: Eval } | { kind: 'diagnostics'; sample: Sample });

/** A cell: empty where the column says nothing about the row. */
type Cell = string | number | null | undefined;

export interface Column<R> {
  header: string;
  cell: (row: R) => Cell;
}

const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** CSV text of `rows` under `columns`: the header, then each row's cell of each column, in the same order. */
export function csvOf<R>(columns: Column<R>[], rows: R[]): string {
  const line = (cells: Cell[]) => cells.map((c) => (c === null || c === undefined ? '' : quote(String(c)))).join(',');
  return [line(columns.map((c) => c.header)), ...rows.map((r) => line(columns.map((c) => c.cell(r))))].join('\n') + '\n';
}

/** A column with a cell for one kind of row only (empty for the others). */
function stepColumn(header: string, cell: (s: Step) => Cell): Column<MetricsRow> {
  return { header, cell: (r) => (r.kind === 'step' ? cell(r.step) : null) };
}
function evalColumn(header: string, cell: (e: Eval, run: CsvRun) => Cell): Column<MetricsRow> {
  return { header, cell: (r) => (r.kind === 'eval' ? cell(r.eval, r.run) : null) };
}
function sampleColumn(header: string, cell: (d: Sample) => Cell): Column<MetricsRow> {
  return { header, cell: (r) => (r.kind === 'diagnostics' ? cell(r.sample) : null) };
}

const globalStep = (r: MetricsRow) => (r.kind === 'step' ? r.step.globalStep : r.kind === 'eval' ? r.eval.globalStep : r.sample.globalStep);

/** The columns for these runs: the evaluations and weight groups they have, each its own column. */
export function metricsColumns(runs: CsvRun[]): Column<MetricsRow>[] {
  const evalNames = [...new Set(runs.flatMap((r) => r.evals.flatMap((e) => Object.keys(e.losses))))].sort();
  const groups = [...new Set(runs.flatMap((r) => (r.diagnostics ?? []).flatMap((d) => Object.keys(d.weightNorms))))];
  const bpcNames = evalNames.filter((n) => splitOf(n) !== null);
  return [
    { header: 'run', cell: (r) => r.run.name },
    { header: 'phase', cell: (r) => r.run.phase },
    { header: 'kind', cell: (r) => r.kind },
    { header: 'global_step', cell: globalStep },
    // A diagnostics sample is taken per metrics message, between steps: it has a global step only.
    { header: 'step', cell: (r) => (r.kind === 'step' ? r.step.step : r.kind === 'eval' ? r.eval.step : null) },
    stepColumn('loss', (s) => s.loss),
    stepColumn('lr', (s) => s.lr),
    stepColumn('tokens_per_sec', (s) => s.tokensPerSec.toFixed(1)),
    ...evalNames.map((n) => evalColumn(`eval_${n}`, (e) => e.losses[n])),
    stepColumn('grad_norm', (s) => s.gradNorm),
    stepColumn('perplexity', (s) => Math.exp(s.loss)),
    ...evalNames.map((n) => evalColumn(`accuracy_${n}`, (e) => e.accuracy?.[n])),
    sampleColumn('tensors', (d) => d.tensors),
    sampleColumn('bytes', (d) => d.bytes),
    ...groups.map((g) => sampleColumn(`weight_norm_${g}`, (d) => d.weightNorms[g])),
    ...bpcNames.map((n) => evalColumn(`bpc_${n}`, (e, run) => (e.losses[n] === undefined ? null : evalBits(n, e.losses[n], run.charsPerToken)))),
  ];
}

/** Every run's rows: its steps, then its evaluations, then its diagnostics samples. */
export function metricsRows(runs: CsvRun[]): MetricsRow[] {
  return runs.flatMap((run) => [
    ...run.points.map((step): MetricsRow => ({ run, kind: 'step', step })),
    ...run.evals.map((e): MetricsRow => ({ run, kind: 'eval', eval: e })),
    ...(run.diagnostics ?? []).map((sample): MetricsRow => ({ run, kind: 'diagnostics', sample })),
  ]);
}

/** Rows of every run's metrics as CSV text. */
export function metricsCsv(runs: CsvRun[]): string {
  return csvOf(metricsColumns(runs), metricsRows(runs));
}
