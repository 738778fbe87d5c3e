/**
 * What to do and what to notice, step by step, for the lesson the chosen pairs belong to: the small world
 * (a quiz about people only the pretraining text mentions) or the real-text lessons (Moby-Dick, Tang verse).
 */
import { useStore } from '../../store/store';
import { useT } from '../hooks';

export function LessonGuide() {
  const t = useT();
  const quiz = useStore((s) => s.manifest?.datasets.find((d) => d.id === s.pairs.source)?.quiz);
  const steps = quiz ? (['world1', 'world2', 'world3', 'world4', 'world5'] as const) : (['real1', 'real2', 'real3', 'real4'] as const);
  return (
    <details className="panel lesson-guide" open data-testid="lesson-guide" data-lesson={quiz ? 'small-world' : 'real-text'}>
      <summary>
        <h2>{t(quiz ? 'lesson.worldTitle' : 'lesson.realTitle')}</h2>
      </summary>
      <ol>
        {steps.map((k) => (
          <li key={k}>{t(`lesson.${k}`)}</li>
        ))}
      </ol>
    </details>
  );
}
