// @vitest-environment jsdom
/**
 * What draws the runs (charts, tables) gets them at most once a second while a run trains, at once otherwise, and
 * at once when the run ends: its last steps are not left undrawn for up to a second after it says it is done.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { initialState, newRunRecord, set, store, type RunRecord } from '../../src/store/store';
import { useRunsForDisplay } from '../../src/ui/hooks';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** Shows how many steps of the first run the drawing has. */
function Steps() {
  const runs = useRunsForDisplay();
  return <span data-testid="steps">{runs[0]?.points.length ?? 0}</span>;
}

let root: Root | null = null;
let host: HTMLElement;
beforeEach(() => {
  vi.useFakeTimers();
  store.setState(initialState('en'), true);
});
afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
  vi.useRealTimers();
});

const run = (steps: number): RunRecord =>
  newRunRecord({
    runId: 'r',
    name: 'r',
    phase: 'finetune',
    steps: 60,
    points: Array.from({ length: steps }, (_, i) => ({ step: i, globalStep: i, loss: 1, lr: 0, tokensPerSec: 0 })),
  });
const shown = () => Number(host.querySelector('[data-testid="steps"]')!.textContent);
const advance = (ms: number) => act(() => void vi.advanceTimersByTime(ms));

describe('the runs as drawn', () => {
  it('follow a training run once a second, and its end at once', () => {
    set((s) => ({ runs: [run(1)], run: { ...s.run, status: 'running' } }));
    host = document.createElement('div');
    document.body.appendChild(host);
    act(() => {
      root = createRoot(host);
      root.render(<Steps />);
    });
    advance(0);
    expect(shown()).toBe(1);
    act(() => set({ runs: [run(5)] }));
    advance(100);
    expect(shown()).toBe(1); // throttled: drawn a second after the last drawing
    // The run ends (its last steps arrive with it): drawn at once, not when the second is up.
    act(() => set((s) => ({ runs: [run(60)], run: { ...s.run, status: 'idle' } })));
    advance(0);
    expect(shown()).toBe(60);
    // Idle: every change at once.
    act(() => set({ runs: [run(61)] }));
    advance(0);
    expect(shown()).toBe(61);
  });
});
