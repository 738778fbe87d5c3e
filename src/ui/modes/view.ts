/** Switching the view (lesson, lab, presentation) and the lesson's step; both kept in the URL. */
import { get, set, type ViewMode } from '../../store/store';
import { writeUrl } from '../../store/url';

export const LESSON_STEPS = 5;

export function setMode(mode: ViewMode): void {
  set((s) => ({ view: { ...s.view, mode } }));
  writeUrl();
  window.scrollTo(0, 0);
}

export function setLessonStep(step: number): void {
  set((s) => ({ view: { ...s.view, step: Math.max(0, Math.min(LESSON_STEPS - 1, step)) } }));
  writeUrl();
}

export const lessonStep = (): number => get().view.step;
