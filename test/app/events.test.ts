/** The worker-event reducer: state in, state and effects out, like a reducer's tests. */
import { describe, expect, it } from 'vitest';
import { applyEvent } from '../../src/app/events';
import { initialState, newRunRecord, type AppState, type RunRecord } from '../../src/store/store';
import { render } from '../../src/i18n/i18n';
import type { Diagnostics, Event, StepPoint } from '../../src/worker/protocol';

function record(runId: string, phase: 'pretrain' | 'finetune', extra: Partial<RunRecord> = {}): RunRecord {
  return newRunRecord({ runId, name: runId, phase, steps: 10, startedAt: 0, ...extra });
}

function withRuns(...runs: RunRecord[]): AppState {
  const s = initialState('en');
  return { ...s, runs, run: { ...s.run, runId: runs[runs.length - 1]?.runId ?? null, status: 'running' } };
}

const point = (step: number, globalStep = step): StepPoint => ({
  step,
  globalStep,
  loss: 3 - step / 10,
  lr: 1e-3,
  gradNorm: 1,
  tokensPerSec: 100,
  msPerStep: 10,
  updateNorms: {},
});

const diag = (globalStep: number): Diagnostics => ({ globalStep, weightNorms: { embeddings: 1 }, tensors: 10, bytes: 100 });

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('applyEvent', () => {
  it('appends metrics to the run in new arrays, leaving those of the previous state as they were, and moves the step counter', () => {
    const s0 = withRuns(record('a', 'pretrain'));
    const { state: s1, effects } = applyEvent(s0, { type: 'metrics', runId: 'a', points: [point(0), point(1)], diagnostics: diag(1) });
    const { state: s2 } = applyEvent(s1, { type: 'metrics', runId: 'a', points: [point(2)], diagnostics: diag(2) });
    expect(effects).toEqual([]);
    expect(s2.runs[0].points.map((p) => p.step)).toEqual([0, 1, 2]);
    expect(s2.runs[0].diagnostics!.map((d) => d.globalStep)).toEqual([1, 2]);
    expect(s1.runs[0].points.map((p) => p.step)).toEqual([0, 1]); // the previous state still says what it said
    expect(s1.runs[0].diagnostics).toHaveLength(1);
    expect(s0.runs[0].points).toEqual([]);
    expect(s2.runs[0]).not.toBe(s1.runs[0]);
    expect(s2.run.step).toBe(3);
    expect(s2.runs[0].stepsDone).toBe(3);
  });

  it('marks where fine-tuning starts after pretraining, as a message translated when drawn', () => {
    const s0 = withRuns(record('p', 'pretrain', { status: 'done' }), record('f', 'finetune'));
    const { state } = applyEvent(s0, { type: 'runStarted', runId: 'f', phase: 'finetune', steps: 10, startStep: 0, trainableParams: 5 });
    const marker = state.runs[1].markers[0];
    expect(marker.kind).toBe('phase');
    expect(render('en', marker.label)).toMatch(/fine-tun/i);
    expect(render('zh', marker.label)).not.toBe(render('en', marker.label));
    // placed at the run's first logged step
    const { state: s2 } = applyEvent(state, { type: 'metrics', runId: 'f', points: [point(0, 300)] });
    expect(s2.runs[1].markers[0].globalStep).toBe(300);
    // a fine-tune that starts over from the snapshot after another says so (even with no pretraining this session)
    const again = withRuns(record('f1', 'finetune', { status: 'done' }), record('f2', 'finetune', { request: { fromSnapshot: true } as RunRecord['request'] }));
    const [restart] = applyEvent(again, { type: 'runStarted', runId: 'f2', phase: 'finetune', steps: 10, startStep: 0, trainableParams: 5 }).state.runs[1]
      .markers;
    expect(render('en', restart.label)).toBe('from the snapshot');
    expect(render('zh', restart.label)).toBe('从快照重新开始');
    // a compared run (from the snapshot) gets no marker
    const c = withRuns(record('p', 'pretrain', { status: 'done' }), record('f', 'finetune', { compare: true }));
    expect(applyEvent(c, { type: 'runStarted', runId: 'f', phase: 'finetune', steps: 10, startStep: 0, trainableParams: 5 }).state.runs[1].markers).toEqual([]);
  });

  it('a finished run asks for an autosave and the next queued strategy', () => {
    const s0 = withRuns(record('a', 'finetune'));
    const queued = { ...s0, run: { ...s0.run, queue: [{ name: 'full', patch: { preset: 'none' as const }, comparison: 'c1' }] } };
    const { state, effects } = applyEvent(queued, { type: 'runEnded', runId: 'a', status: 'done', stepsDone: 10, wallMs: 500, msPerStep: 50 });
    expect(effects).toEqual([{ kind: 'save' }, { kind: 'startNextQueued' }]);
    expect(state.run.status).toBe('idle');
    expect(state.run.queue).toHaveLength(1); // taken off by the effect, not here
    expect(state.runs[0]).toMatchObject({ status: 'done', stepsDone: 10, wallMs: 500, scoring: 0 });
  });

  it('a finished pretraining run also asks for the model to be scored ahead of its fine-tune, unless strategies are queued', () => {
    const done = { type: 'runEnded', runId: 'p', status: 'done', stepsDone: 10, wallMs: 500, msPerStep: 50 } as const;
    expect(applyEvent(withRuns(record('p', 'pretrain')), done).effects).toEqual([{ kind: 'save' }, { kind: 'startNextQueued' }, { kind: 'prescore' }]);
    const s0 = withRuns(record('p', 'pretrain'));
    const queued = { ...s0, run: { ...s0.run, queue: [{ name: 'full', patch: {}, comparison: 'c1' }] } };
    expect(applyEvent(queued, done).effects).toEqual([{ kind: 'save' }, { kind: 'startNextQueued' }]);
    // Stopped or paused: no (the model may still train).
    expect(applyEvent(withRuns(record('p', 'pretrain')), { ...done, status: 'stopped' }).effects).toEqual([{ kind: 'save' }]);
  });

  it('a paused run is saved but starts nothing', () => {
    const { state, effects } = applyEvent(withRuns(record('a', 'pretrain')), {
      type: 'runEnded',
      runId: 'a',
      status: 'paused',
      stepsDone: 4,
      wallMs: 1,
      msPerStep: 1,
    });
    expect(effects).toEqual([{ kind: 'save' }]);
    expect(state.run).toMatchObject({ status: 'paused', step: 4, pending: null });
  });

  it('a failed run clears the queue and says why in the page language (an engine error code)', () => {
    const s0 = withRuns(record('a', 'finetune'));
    const queued = { ...s0, run: { ...s0.run, queue: [{ name: 'full', patch: {}, comparison: 'c1' }] } };
    const error = {
      name: 'NonFiniteError',
      message: 'training stopped at step 3: the loss became NaN. …',
      code: 'nonFiniteLoss' as const,
      params: { step: 3, value: 'NaN' },
    };
    const { state, effects } = applyEvent(queued, { type: 'runEnded', runId: 'a', status: 'error', stepsDone: 3, wallMs: 1, msPerStep: 0, error });
    expect(effects).toEqual([]);
    expect(state.run.queue).toEqual([]);
    expect(state.run.status).toBe('error');
    expect(render('en', state.notice!.text)).toContain('step 3');
    expect(render('zh', state.notice!.text)).toContain('第 3 步');
  });

  it('an error without a code keeps its own words', () => {
    const { state } = applyEvent(withRuns(), { type: 'error', error: { name: 'Error', message: 'something odd' } });
    expect(state.notice).toEqual({ kind: 'error', text: 'something odd' });
  });

  it('a lost GPU device marks the backend crashed (the page offers to continue elsewhere)', () => {
    const { state } = applyEvent(withRuns(), { type: 'error', error: { name: 'DeviceLost', message: 'the GPU device was lost' } });
    expect(state.backend).toMatchObject({ status: 'crashed', crash: 'the GPU device was lost' });
  });

  it('an autosave from the worker is persisted by the dispatcher, the state does not change', () => {
    const s0 = withRuns(record('a', 'pretrain'));
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    const { state, effects } = applyEvent(s0, { type: 'autosave', runId: 'a', step: 5, bytes });
    expect(state).toBe(s0);
    expect(effects).toEqual([{ kind: 'persist', bytes: new Uint8Array([1, 2, 3]), step: 5 }]);
  });

  it('never changes the state it is given: every event applied to a deep-frozen state', () => {
    // Frozen objects throw on any write in strict mode (ES modules are strict): a push, an assignment, a splice.
    const s0 = deepFreeze(
      withRuns(
        record('p', 'pretrain', { status: 'done', points: [{ globalStep: 0, step: 0, loss: 3, lr: 1e-3, tokensPerSec: 1 }], diagnostics: [diag(0)] }),
        record('a', 'finetune'),
      ),
    );
    const copy = structuredClone(s0);
    const events: Event[] = [
      { type: 'runStarted', runId: 'a', phase: 'finetune', steps: 10, startStep: 0, trainableParams: 5 },
      { type: 'metrics', runId: 'a', points: [point(0), point(1)], diagnostics: diag(1) },
      { type: 'metrics', runId: 'p', points: [point(1)], diagnostics: diag(1) },
      { type: 'eval', runId: 'a', step: 1, globalStep: 1, losses: { val: 2 } },
      { type: 'freeze', runId: 'a', step: 2, globalStep: 2, trainable: { 'block.1': 1 }, trainableParams: 9 },
      { type: 'breakpoint', runId: 'a', step: 3, globalStep: 3, reason: 'earlyStop', evals: 2 },
      { type: 'sampleStrip', runId: 'a', step: 3, globalStep: 3, text: 'x' },
      { type: 'scoring', runId: 'a', answers: 4 },
      { type: 'runEnded', runId: 'a', status: 'error', stepsDone: 3, wallMs: 1, msPerStep: 1, error: { name: 'Error', message: 'x' } },
      { type: 'runEnded', runId: 'a', status: 'done', stepsDone: 10, wallMs: 1, msPerStep: 1 },
      { type: 'error', error: { name: 'DeviceLost', message: 'lost' } },
      { type: 'ready', backend: { name: 'cpu', forced: false, reason: '', probes: {} as never } },
    ];
    for (const e of events) expect(() => applyEvent(s0, e), e.type).not.toThrow();
    expect(s0).toEqual(copy);
  });
});
