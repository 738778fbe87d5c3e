/** Switching the view (lesson, lab, presentation) and the lesson's step; both kept in the URL. */
import { get, set, type AppState, type ViewMode } from '../../store/store';
import { VIEW_KEY, writeUrl } from '../../store/url';

export const LESSON_STEPS = 5;

export function setMode(mode: ViewMode): void {
  set((s) => ({ view: { ...s.view, mode } }));
  writeUrl();
  try {
    if (mode !== 'present') localStorage.setItem(VIEW_KEY, mode);
  } catch {
    // storage refused (a private window's policy): the URL still holds the choice
  }
  window.scrollTo(0, 0);
}

export function setLessonStep(step: number): void {
  set((s) => ({ view: { ...s.view, step: Math.max(0, Math.min(LESSON_STEPS - 1, step)) } }));
  writeUrl();
}

export const lessonStep = (): number => get().view.step;

/** The lesson's step whose work can be done again once done: "Fine-tune" (the third). */
export const FINETUNE_STEP = 2;

/**
 * Pure: whether the lesson's step `step` has done its work, so that "Next step" is what to press now (not the
 * step's own button again): the fine-tune step once a fine-tune has run to its end and nothing runs.
 */
export function lessonStepDone(s: AppState, step: number): boolean {
  if (step !== FINETUNE_STEP) return false;
  return s.run.status !== 'running' && s.runs.some((r) => r.phase === 'finetune' && r.status === 'done');
}

/**
 * A run is under way: one trains or is paused, or a comparison's strategies are still queued (between two of them
 * the run is idle for a moment). No new run starts then: the lesson's Compare and the presentation's F and C.
 */
export const runUnderWay = (run: { status: string; queue?: readonly unknown[] }): boolean =>
  run.status === 'running' || run.status === 'paused' || (run.queue?.length ?? 0) > 0;
