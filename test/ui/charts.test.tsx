// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { initialState, newRunRecord, store, type RunRecord } from '../../src/store/store';
import { compareColors, compareStepScale, LossChart } from '../../src/ui/charts/Charts';
import { RunsTable } from '../../src/ui/panels/RunsTable';
import { translate } from '../../src/i18n/i18n';
import { EVAL } from '../../src/engine/train/evalNames';
import { fineTuneRun } from './fineTuneRun';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** jsdom has no layout: every observed element reports a 600 px wide box. */
class FixedWidthObserver {
  constructor(private readonly callback: (entries: { contentRect: { width: number } }[]) => void) {}
  observe() {
    this.callback([{ contentRect: { width: 600 } }]);
  }
  disconnect() {}
}

function run(phase: 'pretrain' | 'finetune', from: number, to: number, markers: RunRecord['markers']): RunRecord {
  const points = Array.from({ length: to - from + 1 }, (_, i) => ({ globalStep: from + i, step: i, loss: 3 - i / 1000, lr: 1e-3, tokensPerSec: 1000 }));
  return newRunRecord({
    runId: `${phase}-${from}`,
    name: phase,
    phase,
    steps: to - from,
    points,
    markers,
    status: 'done',
    stepsDone: to - from,
    msPerStep: 1,
    wallMs: 1,
    startedAt: 0,
  });
}

let root: Root | null = null;
let host: HTMLElement;
beforeEach(() => {
  globalThis.ResizeObserver = FixedWidthObserver as unknown as typeof ResizeObserver;
  store.setState(initialState('en'), true);
});
afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
});

describe('LossChart markers', () => {
  it('draws the labels of close markers at different heights, each whole in its title', () => {
    const markers: RunRecord['markers'] = [
      { globalStep: 500, step: 0, label: 'fine-tuning starts', kind: 'phase' },
      { globalStep: 510, step: 10, label: 'unfreeze → 3 groups', kind: 'unfreeze' },
      { globalStep: 900, step: 400, label: 'unfreeze → 4 groups', kind: 'unfreeze' },
    ];
    store.setState({ runs: [run('pretrain', 0, 499, []), run('finetune', 500, 1000, markers)] });
    host = document.createElement('div');
    document.body.appendChild(host);
    act(() => {
      root = createRoot(host);
      root.render(<LossChart />);
    });
    const texts = [...host.querySelectorAll('[data-testid="loss-chart"] text')];
    const label = (name: string) => texts.find((t) => t.textContent?.includes(name));
    const y = (name: string) => label(name)?.getAttribute('y');
    expect(y('fine-tuning starts')).toBeTruthy();
    expect(y('unfreeze → 3 groups')).not.toBe(y('fine-tuning starts'));
    // far from the others: back in the top lane
    expect(y('unfreeze → 4 groups')).toBe(y('fine-tuning starts'));
    expect(label('unfreeze → 3 groups')?.querySelector('title')?.textContent).toBe('unfreeze → 3 groups');
    // Readable over a curve: a white halo painted under the letters.
    expect([label('fine-tuning starts')?.getAttribute('stroke'), label('fine-tuning starts')?.getAttribute('paint-order')]).toEqual(['#fff', 'stroke']);
  });
});

describe('LossChart: a starter’s own curve', () => {
  /** The starter's curve as loadStarter records it: progress every 150 steps up to 4,000. */
  function starter(): RunRecord {
    const steps = Array.from({ length: 27 }, (_, i) => Math.min(4000, i * 150 + 150));
    return newRunRecord({
      ...run('pretrain', 0, 0, []),
      runId: 'starter-x',
      name: 'starter (trained earlier)',
      reference: true,
      points: steps.map((s) => ({ globalStep: s, step: s, loss: 3 - s / 4000, lr: 0, tokensPerSec: 0 })),
      evals: steps.map((s) => ({ globalStep: s, step: s, losses: { train: 3 - s / 4000, val: 3.1 - s / 4000 } })),
    });
  }
  const legend = () => [...host.querySelectorAll('.legend li')].map((li) => li.textContent);
  function render(runs: RunRecord[]) {
    store.setState({ runs });
    host = document.createElement('div');
    document.body.appendChild(host);
    act(() => {
      root = createRoot(host);
      root.render(<LossChart />);
    });
  }

  it('is drawn and named beside the student’s own pretraining over the same steps', () => {
    render([starter(), run('pretrain', 0, 1000, [])]);
    expect(legend()).toContain('starter (trained earlier): train loss');
    expect(legend()).toContain('starter (trained earlier): validation loss');
  });

  it('alone, leaves out the learning-rate and tokens/s charts (it has neither), which come with the first run', async () => {
    render([starter()]);
    expect(host.querySelector('[data-testid=small-charts]')).toBeNull();
    // The chart takes new runs on the next tick (it throttles redraws while a run trains).
    await act(async () => {
      store.setState({ runs: [starter(), run('finetune', 4000, 4060, [])] });
      await new Promise((r) => setTimeout(r, 0));
    });
    expect([...host.querySelectorAll('[data-testid=small-charts] h3')].map((h) => h.textContent)).toEqual([
      expect.stringMatching(/^Learning rate: /),
      expect.stringMatching(/^Tokens per second: /),
    ]);
  });

  it('alone, the gradient-norm chart says it is drawn as a run trains (no heading over nothing), then draws the run', async () => {
    render([starter()]);
    const chart = () => host.querySelector('[data-testid=diag-chart-gradNorm]')!;
    expect(chart().textContent).toContain('drawn as a run trains');
    expect(chart().querySelector('svg')).toBeNull();
    const trained = run('finetune', 4000, 4060, []);
    trained.points = trained.points.map((p, i) => ({ ...p, gradNorm: 2 - i / 60 }));
    await act(async () => {
      store.setState({ runs: [starter(), trained] });
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(chart().textContent).not.toContain('drawn as a run trains');
    expect(chart().textContent).toContain('the clip threshold (1)');
    expect(chart().querySelector('svg polyline')).not.toBeNull();
  });

  it('is left out, legend and all, during a fine-tune that only its last point touches', () => {
    render([starter(), run('finetune', 4000, 4060, [])]);
    expect(legend().some((l) => l?.startsWith('starter'))).toBe(false);
    expect(legend().length).toBeGreaterThan(0); // the fine-tune's own lines are named
  });
});

describe('LossChart: two fine-tunes', () => {
  it('names each one’s forgetting curve by its run (one fine-tune keeps the short name)', async () => {
    const tune = (name: string, from: number) => ({
      ...run('finetune', from, from + 60, []),
      runId: name,
      name,
      evals: [0, 60].map((step) => ({ step, globalStep: from + step, losses: { [EVAL.pairsVal]: 1 - step / 100, [EVAL.corpusVal]: 0.2 + step / 100 } })),
    });
    store.setState({ runs: [tune('full fine-tune', 4000)] });
    host = document.createElement('div');
    document.body.appendChild(host);
    act(() => {
      root = createRoot(host);
      root.render(<LossChart />);
    });
    const legend = () => [...host.querySelectorAll('.legend li')].map((li) => li.textContent);
    expect(legend()).toContain('corpus validation (forgetting)');
    await act(async () => {
      store.setState({ runs: [tune('full fine-tune', 4000), tune('full fine-tune #3', 4660)] });
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(legend().filter((l) => l?.startsWith('corpus validation'))).toEqual([
      'corpus validation (forgetting): full fine-tune',
      'corpus validation (forgetting): full fine-tune #3',
    ]);
  });
});

describe('compareColors', () => {
  it('gives a lab comparison of a dozen drawn runs a colour each, skipping hidden and pretraining runs, and only then comes round again', () => {
    const runs = Array.from({ length: 14 }, (_, i) => ({ runId: `r${i}`, phase: 'finetune' as const, hidden: i === 3 }));
    const all = [{ runId: 'pre', phase: 'pretrain' as const, hidden: false }, ...runs];
    const colors = compareColors(all);
    expect(colors.has('pre')).toBe(false);
    expect(colors.has('r3')).toBe(false);
    const drawn = runs.filter((r) => !r.hidden).map((r) => colors.get(r.runId));
    expect(new Set(drawn.slice(0, 12)).size).toBe(12);
    expect(drawn[12]).toBe(drawn[0]);
  });
});

describe('the runs table', () => {
  it('names its second score by the pairs: real words, same length for couplets, or no column where neither applies', () => {
    const headers = (model: { words: number | null; sameLength: number | null }) => {
      const r = fineTuneRun('full fine-tune', [0.2, 0.5], null, { compare: false });
      r.score = { ...r.score!, model: { ...r.score!.model, ...model } };
      store.setState({ runs: [r] });
      host = document.createElement('div');
      document.body.appendChild(host);
      act(() => {
        root = createRoot(host);
        root.render(<RunsTable />);
      });
      const ths = [...host.querySelectorAll('[data-testid=runs-table] th')].map((th) => th.textContent);
      act(() => root!.unmount());
      root = null;
      host.remove();
      return ths;
    };
    expect(headers({ words: 0.8, sameLength: null })).toContain('Real words');
    const couplets = headers({ words: null, sameLength: 0.4 });
    expect(couplets).toContain('Same length');
    expect(couplets).not.toContain('Real words');
    // Chinese questions and answers (the small world): neither, so no column of dashes or a couplet's measure.
    const qa = headers({ words: null, sameLength: null });
    expect(qa).not.toContain('Real words');
    expect(qa).not.toContain('Same length');
    expect(qa.length).toBe(couplets.length - 1);
  });

  it("shows each run's whole name with its curves' colour, and renames it in place", async () => {
    const evals = [0, 30, 60].map((step) => ({
      step,
      globalStep: 4000 + step,
      losses: { [EVAL.pairsVal]: 1 - step / 100, [EVAL.corpusVal]: 0.2 + step / 1000 },
    }));
    const run = (runId: string, name: string, hidden = false) => newRunRecord({ runId, name, phase: 'finetune', steps: 60, status: 'done', hidden, evals });
    store.setState({ runs: [run('a', 'full, long (5× steps, lr 0.002)'), run('b', 'bottom 2 frozen', true), run('c', 'lora:r8 α16')] });
    host = document.createElement('div');
    document.body.appendChild(host);
    act(() => {
      root = createRoot(host);
      root.render(<RunsTable />);
    });
    const names = [...host.querySelectorAll('[data-testid=run-name]')];
    expect(names.map((n) => n.textContent)).toEqual(['full, long (5× steps, lr 0.002)', 'bottom 2 frozen', 'lora:r8 α16']);
    // The chart draws the shown runs in its colours, in order; a hidden run has no curve and so no colour.
    const colors = [...host.querySelectorAll('.run-swatch')].map((e) => e.getAttribute('data-color'));
    expect(colors).toEqual(['#2563eb', '', '#dc2626']);
    const strokes = [...host.querySelectorAll('[data-testid=compare-chart] path.recharts-line-curve')].map((e) => e.getAttribute('stroke'));
    expect(strokes).toEqual(['#2563eb', '#2563eb', '#dc2626', '#dc2626']); // each run's two curves
    // The legend: each drawn run once, in its colour, then the two line styles once.
    const legend = [...host.querySelectorAll('.legend li')];
    expect(legend.map((li) => li.textContent)).toEqual([
      'full, long (5× steps, lr 0.002)',
      'lora:r8 α16',
      translate('en', 'chart.pairsVal'),
      translate('en', 'chart.corpusVal'),
    ]);
    expect(legend.map((li) => (li.querySelector('.swatch') as HTMLElement).style.borderTopStyle)).toEqual(['solid', 'solid', 'solid', 'dashed']);
    act(() => (names[2] as HTMLElement).click());
    const input = host.querySelector(`input[aria-label="${translate('en', 'runs.rename')}"]`) as HTMLInputElement;
    expect(input.value).toBe('lora:r8 α16');
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, 'LoRA, rank 8');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(store.getState().runs.find((r) => r.runId === 'c')!.name).toBe('LoRA, rank 8');
    expect(input.value).toBe('LoRA, rank 8'); // at once, though the table's runs follow the store a task later
    act(() => input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    expect(host.querySelector('input[aria-label]')).toBeNull();
    expect(host.querySelectorAll('[data-testid=run-name]')[2].textContent).toBe('LoRA, rank 8');
    // The keyboard's focus is back on the name, not lost to the page.
    expect(document.activeElement).toBe(host.querySelectorAll('[data-testid=run-name]')[2]);

    // A blank name, left: the old one stays. Escape: the old one comes back.
    const renameTo = async (text: string, end: () => void) => {
      act(() => (host.querySelectorAll('[data-testid=run-name]')[2] as HTMLElement).click());
      const field = host.querySelector('input[aria-label]') as HTMLInputElement;
      act(() => {
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(field, text);
        field.dispatchEvent(new Event('input', { bubbles: true }));
      });
      act(() => end.call(field));
      await act(() => new Promise((done) => setTimeout(done, 0)));
      return store.getState().runs.find((r) => r.runId === 'c')!.name;
    };
    expect(
      await renameTo('  ', function (this: HTMLInputElement) {
        this.blur();
      }),
    ).toBe('LoRA, rank 8');
    expect(
      await renameTo('oops', function (this: HTMLInputElement) {
        this.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      }),
    ).toBe('LoRA, rank 8');
    expect(host.querySelectorAll('[data-testid=run-name]')[2].textContent).toBe('LoRA, rank 8');
  });

  it("in the lesson's last step, shows the latest comparison's strategies only (running ones too), and says so", () => {
    const evals = [0, 60].map((step) => ({ step, globalStep: 4000 + step, losses: { [EVAL.pairsVal]: 1 - step / 100, [EVAL.corpusVal]: 0.2 } }));
    const run = (runId: string, extra: Partial<RunRecord> = {}) =>
      newRunRecord({ runId, name: runId, phase: 'finetune', steps: 60, status: 'done', evals, compare: true, ...extra });
    const draw = (el: ReactElement) => {
      host = document.createElement('div');
      document.body.appendChild(host);
      act(() => {
        root = createRoot(host);
        root.render(el);
      });
      return [...host.querySelectorAll('[data-testid=run-name]')].map((n) => n.textContent);
    };
    // The lesson's own fine-tune (step 3), before any comparison: it is shown, nothing is said.
    store.setState({ runs: [run('step 3', { compare: false })] });
    expect(draw(<RunsTable latest />)).toEqual(['step 3']);
    expect(host.querySelector('[data-testid=runs-latest]')).toBeNull();
    act(() => root?.unmount());
    host.remove();

    store.setState({
      runs: [
        run('step 3', { compare: false }),
        run('first a', { comparison: 'c1' }),
        run('first b', { comparison: 'c1' }),
        run('second a', { comparison: 'c2' }),
        run('second b', { comparison: 'c2', status: 'running' }),
      ],
    });
    expect(draw(<RunsTable latest />)).toEqual(['second a', 'second b']);
    expect(host.querySelector('[data-testid=runs-latest]')!.textContent).toBe(translate('en', 'runs.latestOnly', { shown: 2, total: 5 }));
    expect(host.querySelector('[data-testid=compare-chart]')!.getAttribute('data-curves')).toBe('2');
    expect([...host.querySelectorAll('.run-swatch')].map((e) => e.getAttribute('data-color'))).toEqual(['#2563eb', '#dc2626']);
    act(() => root?.unmount());
    host.remove();
    // The lab: every run.
    expect(draw(<RunsTable />)).toEqual(['step 3', 'first a', 'first b', 'second a', 'second b']);
    expect(host.querySelector('[data-testid=runs-latest]')).toBeNull();
  });
  it('puts steps on a square-root scale, and says so, where one run is three times longer than another', () => {
    const evalsTo = (steps: number) =>
      [0, steps / 2, steps].map((step) => ({ step, globalStep: 4000 + step, losses: { [EVAL.pairsVal]: 1 - step / 1000, [EVAL.corpusVal]: 0.2 } }));
    const run = (runId: string, steps: number) => newRunRecord({ runId, name: runId, phase: 'finetune', steps, status: 'done', evals: evalsTo(steps) });
    /** How far along the axis each run's pairs curve ends, as a share of the longest's (from step 0). */
    const ends = (short: number, long: number) => {
      store.setState({ runs: [run('short', short), run('long', long)] });
      host = document.createElement('div');
      document.body.appendChild(host);
      act(() => {
        root = createRoot(host);
        root.render(<RunsTable />);
      });
      const xs = [...host.querySelectorAll('[data-testid=compare-chart] path.recharts-line-curve')].map((p) =>
        [...(p.getAttribute('d') ?? '').matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1])),
      );
      const [shortPairs, , longPairs] = xs; // each run's pairs curve, then its corpus curve
      const x0 = longPairs[0];
      const share = (shortPairs.at(-1)! - x0) / (longPairs.at(-1)! - x0);
      const scale = host.querySelector('[data-testid=compare-chart]')!.getAttribute('data-scale');
      const note = host.querySelector('[data-testid=compare-scale]')?.textContent ?? null;
      const ticks = [...host.querySelectorAll('[data-testid=compare-chart] .recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value')].map(
        (e) => e.textContent,
      );
      act(() => root?.unmount());
      host.remove();
      return { share, scale, note, ticks };
    };
    // The lesson's comparison: 60-step strategies beside the 300-step long one fill 45 % of the width, not 20 %.
    const lesson = ends(60, 300);
    expect(lesson.scale).toBe('sqrt');
    expect(lesson.share).toBeCloseTo(Math.sqrt(60 / 300), 2);
    expect(lesson.note).toBe(translate('en', 'chart.sqrtSteps', { times: 5 }));
    // Its ticks: where the strategies end (60), round steps, the end; none crowding another.
    expect(lesson.ticks).toEqual(['0', '60', '100', '150', '200', '250', '300']);
    // On a phone's narrow chart, fewer labels: none within 36 px of another.
    const narrow = compareStepScale([{ steps: 60 }, { steps: 300 }], 260).ticks!;
    expect(narrow).toEqual([0, 60, 150, 300]);
    const px = narrow.map((v) => 260 * Math.sqrt(v / 300));
    expect(Math.min(...px.slice(1).map((x, i) => x - px[i]))).toBeGreaterThanOrEqual(36);
    // Lengths within threefold: a plain step axis, nothing said.
    const close = ends(60, 100);
    expect(close.scale).toBe('linear');
    expect(close.share).toBeCloseTo(0.6, 2);
    expect(close.note).toBeNull();
  });
});
