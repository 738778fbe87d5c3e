import { describe, expect, it } from 'vitest';
import { initialState, newRunRecord } from '../../src/store/store';
import { decodeState, defaultMode, encodeState } from '../../src/store/url';
import { presentKeyAction } from '../../src/ui/modes/PresentMode';
import { FINETUNE_STEP, lessonStepDone } from '../../src/ui/modes/view';

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
