import { describe, expect, it } from 'vitest';
import { initialState, newRunRecord, type RunRecord } from '../../src/store/store';
import { decodeState, defaultMode, encodeState } from '../../src/store/url';
import { presentKeyAction } from '../../src/ui/modes/PresentMode';
import { FINETUNE_STEP, lessonStepDone } from '../../src/ui/modes/view';
import { compareSummary, outcomes } from '../../src/ui/modes/compareSummary';
import { shownRuns } from '../../src/ui/hooks';
import { fineTuneRun } from './fineTuneRun';

describe('the view in the URL', () => {
  it('opens the lesson on a bare address (or one naming only the language), the lab on an experiment link', () => {
    expect(defaultMode('')).toBe('lesson');
    expect(defaultMode('?lang=zh')).toBe('lesson');
    expect(defaultMode('?preset=baby&steps=2000')).toBe('lab');
    expect(defaultMode('?backend=wasm')).toBe('lab');
    // The bare address remembers the last choice of lesson or lab (never the presentation).
    expect(defaultMode('', 'lab')).toBe('lab');
    expect(defaultMode('?lang=en', 'lesson')).toBe('lesson');
    expect(defaultMode('', 'present')).toBe('lesson');
    expect(defaultMode('?preset=baby', 'lesson')).toBe('lab');
  });

  it('reads and writes ?mode=lesson|lab, ?present=1 and the lesson step', () => {
    const s = initialState('en');
    expect(decodeState(s, '?mode=lesson').view.mode).toBe('lesson');
    expect(decodeState(s, '?mode=lab&present=1').view.mode).toBe('present');
    expect(decodeState(s, '?mode=nonsense').view.mode).toBe(s.view.mode);
    const lesson = decodeState(s, '?mode=lesson&step=3');
    expect(lesson.view).toEqual({ mode: 'lesson', step: 2 });
    expect(decodeState(initialState('en'), encodeState(lesson)).view).toEqual({ mode: 'lesson', step: 2 });
    const present = { ...s, view: { mode: 'present' as const, step: 0 } };
    expect(new URLSearchParams(encodeState(present)).get('present')).toBe('1');
    expect(decodeState(initialState('en'), encodeState(present)).view.mode).toBe('present');
    expect(decodeState(s, '?step=9').view.step).toBe(0);
  });
});

describe('the presentation’s keys', () => {
  const running = { status: 'running' };
  const paused = { status: 'paused' };
  const idle = { status: 'idle' };
  it('Space pauses a running run and resumes a paused one; not twice while a pause is pending', () => {
    expect(presentKeyAction(' ', running, true)).toBe('pause');
    expect(presentKeyAction(' ', { status: 'running', pending: 'pause' }, true)).toBe(null);
    expect(presentKeyAction(' ', paused, true)).toBe('resume');
    expect(presentKeyAction(' ', idle, true)).toBe(null);
  });
  it('→ steps a paused run once; F starts fine-tuning when nothing runs and a model and pairs are there', () => {
    expect(presentKeyAction('ArrowRight', paused, true)).toBe('step');
    expect(presentKeyAction('ArrowRight', running, true)).toBe(null);
    expect(presentKeyAction('f', idle, true)).toBe('finetune');
    expect(presentKeyAction('F', idle, true)).toBe('finetune');
    expect(presentKeyAction('f', idle, false)).toBe(null);
    expect(presentKeyAction('f', running, true)).toBe(null);
    expect(presentKeyAction('f', paused, true)).toBe(null);
    expect(presentKeyAction('x', idle, true)).toBe(null);
  });
  it('C runs the comparison of strategies under the same conditions as F, and not while strategies are still queued', () => {
    expect(presentKeyAction('c', idle, true)).toBe('compare');
    expect(presentKeyAction('C', idle, true)).toBe('compare');
    expect(presentKeyAction('c', idle, false)).toBe(null);
    expect(presentKeyAction('c', running, true)).toBe(null);
    expect(presentKeyAction('c', paused, true)).toBe(null);
    // Between two strategies the run is idle for a moment, the rest still queued: neither key starts another run.
    expect(presentKeyAction('c', { ...idle, queue: [{}] }, true)).toBe(null);
    expect(presentKeyAction('f', { ...idle, queue: [{}] }, true)).toBe(null);
  });
});

describe('the lesson step whose work is done', () => {
  it('is the fine-tune step once a fine-tune ran to its end and nothing runs; not before, not during another', () => {
    const s = initialState('en');
    const ft = (status: 'done' | 'stopped' | 'running') => ({ ...newRunRecord({ runId: status, name: 'ft', phase: 'finetune', steps: 60 }), status });
    const pre = { ...newRunRecord({ runId: 'p', name: 'p', phase: 'pretrain', steps: 60 }), status: 'done' as const };
    expect(lessonStepDone(s, FINETUNE_STEP)).toBe(false);
    expect(lessonStepDone({ ...s, runs: [pre] }, FINETUNE_STEP)).toBe(false); // only pretrained
    expect(lessonStepDone({ ...s, runs: [ft('stopped')] }, FINETUNE_STEP)).toBe(false); // stopped before its end
    const finished = { ...s, runs: [ft('done')] };
    expect(lessonStepDone(finished, FINETUNE_STEP)).toBe(true);
    // Fine-tuning again: the step's own button (Stop) is what matters while it runs.
    expect(lessonStepDone({ ...finished, run: { ...s.run, status: 'running' } }, FINETUNE_STEP)).toBe(false);
    // Other steps keep "Next step" as it was.
    for (const step of [0, 1, 3, 4]) expect(lessonStepDone(finished, step)).toBe(false);
  });
});

describe("the comparison's takeaway", () => {
  const run = (name: string, corpus: [number, number], facts: number | null, extra: Partial<RunRecord> = {}) =>
    shownRuns([fineTuneRun(name, corpus, facts, extra)], 'en')[0];

  it('names the run that forgot least, the one with the most right facts, and the one that forgot most', () => {
    const runs = [run('full', [0.2, 0.464], 0.69), run('frozen', [0.2, 0.313], 0.39), run('lora', [0.2, 0.216], 0.24), run('long', [0.2, 2.767], 0.14)];
    const s = compareSummary(outcomes(runs))!;
    expect(s.leastForgetting.name).toBe('lora');
    expect(s.leastForgetting.forgetting).toBeCloseTo(0.016, 6);
    expect(s.mostFacts).toMatchObject({ name: 'full', facts: 0.69 });
    expect(s.mostForgetting).toMatchObject({ name: 'long', facts: 0.14 });
    expect(s.mostForgetting.forgetting).toBeCloseTo(2.567, 6);
  });

  it('waits for two finished strategies that are drawn, with the forgetting measured; the first of equals wins', () => {
    const one = [run('a', [0.2, 0.3], 0.5)];
    expect(compareSummary(outcomes(one))).toBeNull();
    // Not counted: a strategy still going, a hidden one, one without the corpus measured.
    const others = [
      run('running', [0.2, 0.1], 0.9, { status: 'running' }),
      run('hidden', [0.2, 0.1], 0.9, { hidden: true }),
      run('unmeasured', [0.2, 0.1], 0.9, { evals: [] }),
    ];
    expect(outcomes([...one, ...others]).map((o) => o.name)).toEqual(['a']);
    const s = compareSummary(outcomes([...one, ...others, run('b', [0.2, 0.25], 0.5), run('c', [0.2, 0.25], 0.4)]))!;
    expect(s.leastForgetting.name).toBe('b');
    expect(s.mostFacts!.name).toBe('a');
    expect(s.mostForgetting.name).toBe('a');
  });

  it("reads the latest comparison only: not the fine-tunes run on their own, not an earlier comparison's strategies", () => {
    const alone = (name: string) => run(name, [0.2, 0.21], 0.99, { compare: false });
    // Three fine-tunes pressed one after another in step 3 are not a comparison.
    expect(compareSummary(outcomes([alone('s1'), alone('s2'), alone('s3')]))).toBeNull();
    const earlier = [run('old a', [0.2, 0.21], 0.95), run('old b', [0.2, 5], 0.01)];
    const latest = [run('new a', [0.2, 0.4], 0.6), run('new b', [0.2, 0.9], 0.3)];
    const names = (runs: ReturnType<typeof run>[]) => outcomes(runs).map((o) => o.name);
    expect(names([alone('s1'), ...earlier, alone('s2'), ...latest])).toEqual(['new a', 'new b']);
    // A fine-tune run since: the comparison before it is still the latest.
    expect(names([alone('s1'), ...earlier, alone('s2'), ...latest, alone('s3')])).toEqual(['new a', 'new b']);
    expect(compareSummary(outcomes([...earlier, alone('s2'), ...latest]))!.leastForgetting.name).toBe('new a');
  });

  it('keeps two comparisons run back to back apart by their ids; runs saved before the id read as one where unbroken', () => {
    const of = (comparison: string, names: string[]) => names.map((n, i) => run(n, [0.2, 0.3 + i / 10], 0.5, { comparison }));
    const names = (runs: ReturnType<typeof run>[]) => outcomes(runs).map((o) => o.name);
    expect(names([...of('c1', ['old a', 'old b', 'old c']), ...of('c2', ['new a', 'new b'])])).toEqual(['new a', 'new b']);
    // Only one of the latest comparison's strategies has finished: nothing to say yet (not the earlier one's runs).
    const going = run('new b', [0.2, 0.3], 0.5, { comparison: 'c2', status: 'running' });
    expect(compareSummary(outcomes([...of('c1', ['old a', 'old b']), ...of('c2', ['new a']), going]))).toBeNull();
    // An older autosave: no ids, one unbroken series.
    expect(names([run('a', [0.2, 0.3], 0.5), run('b', [0.2, 0.4], 0.5)])).toEqual(['a', 'b']);
  });

  it('has no "most right facts" without a quiz', () => {
    const s = compareSummary(outcomes([run('a', [0.2, 0.3], null), run('b', [0.2, 0.25], null), run('c', [0.2, 0.4], null)]))!;
    expect(s.mostFacts).toBeNull();
    expect(s.mostForgetting).toMatchObject({ name: 'c', facts: null });
  });
});
