/**
 * The lesson's starter — the small world's in the page's language where there is one — shared by the lesson's
 * first step and the presentation, which both load it with one button.
 */
import { get, set, useStore } from '../../store/store';
import { startFromStarter } from '../../app/controller';

/**
 * The starter the lesson loads: the small world's in the page's language if bundled, else the language's own, else
 * any; and whether it is the small world's (a quiz to show).
 */
export function useLessonStarter() {
  const lang = useStore((s) => s.lang);
  const starters = useStore((s) => s.starters);
  const manifest = useStore((s) => s.manifest);
  const hasQuiz = (pairs: string) => Boolean(manifest?.datasets.find((d) => d.id === pairs)?.quiz);
  const mine = starters.filter((s) => s.language === lang);
  const starter = mine.find((s) => hasQuiz(s.pairs)) ?? mine[0] ?? starters[0] ?? null;
  return { starter, world: starter ? hasQuiz(starter.pairs) : false };
}

/**
 * Load a starter; true once it is the model. The lab's notice that follows ("fine-tune it in step 4") points at
 * a panel these views do not show, so it is cleared: the view itself says what comes next.
 */
export async function loadStarterHere(id: string): Promise<boolean> {
  const before = get().model.info;
  await startFromStarter(id);
  // A failed load leaves the model there was (or none): not loaded.
  if (!get().model.info || get().model.info === before) return false;
  if (get().notice?.kind === 'info') set({ notice: null });
  return true;
}
