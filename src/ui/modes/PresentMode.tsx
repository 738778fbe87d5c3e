/**
 * The presentation view (`?present=1`): for a projector at 1280×720 — large type, only the loss chart, the
 * model diagram, the answers (the quiz for the small world, the runs' before → after otherwise) and the run's
 * progress. Keys drive the run: Space pauses or resumes, → takes one step of a paused run, F starts
 * fine-tuning with the current settings, C runs the lesson's comparison of strategies (and then says what it shows). Opened with no model (a link to `?present=1`), it offers the lesson's
 * starter where the diagram will be, so a class can begin without leaving it.
 */
import { useEffect, useMemo, useState } from 'react';
import { get, useStore } from '../../store/store';
import { pauseRun, queueComparison, resumeRun, startLessonFinetune, stepOnce } from '../../app/controller';
import { compareStrategies } from '../../app/compare';
import { CompareTakeaway } from './LessonMode';
import { useRunsForDisplay, useT } from '../hooks';
import { CompareChart, LossChart } from '../charts/Charts';
import { latestComparison } from '../runValues';
import { ModelDiagram } from '../diagram/ModelDiagram';
import { LESSON_QUIZ_PAGE, QuizView } from '../panels/QuizView';
import { RunsTable } from '../panels/RunsTable';
import { BackendBadge } from '../BackendBadge';
import { runUnderWay, setMode } from './view';
import { loadStarterHere, useLessonStarter } from './lessonStarter';
import { pct } from '../runValues';

/** What a key does in the presentation, from the state: pure, so it is unit-tested. */
export function presentKeyAction(
  key: string,
  run: { status: string; pending?: string | null; queue?: readonly unknown[] },
  canFinetune: boolean,
): 'pause' | 'resume' | 'step' | 'finetune' | 'compare' | null {
  if (key === ' ' || key === 'Spacebar') return run.status === 'running' ? (run.pending ? null : 'pause') : run.status === 'paused' ? 'resume' : null;
  if (key === 'ArrowRight') return run.status === 'paused' ? 'step' : null;
  const free = canFinetune && !runUnderWay(run);
  if (key === 'f' || key === 'F') return free ? 'finetune' : null;
  if (key === 'c' || key === 'C') return free ? 'compare' : null;
  return null;
}

const typing = (el: EventTarget | null) => el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

export function PresentMode() {
  const t = useT();
  const run = useStore((s) => s.run);
  const world = useStore((s) => Boolean(s.manifest?.datasets.find((d) => d.id === s.pairs.source)?.quiz));
  const hasModel = useStore((s) => Boolean(s.model.info));
  // The current run's record: how it ended, its quiz, whether it is a compared strategy.
  const current = useStore((s) => s.runs.find((r) => r.runId === s.run.runId));
  // A compared strategy is not drawn on the loss chart (the lab draws comparisons apart): the comparison's chart instead.
  const comparing = Boolean(current?.compare);
  const currentName = useRunsForDisplay().find((r) => r.runId === run.runId)?.name;
  // What F needs (presentKeyAction's canFinetune): a model loaded before its pairs are ready says it waits for them.
  const ready = useStore((s) => Boolean(s.model.info && s.pairs.info));
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      const st = get();
      const action = presentKeyAction(e.key, st.run, Boolean(st.model.info && st.pairs.info));
      if (!action) return;
      e.preventDefault();
      if (action === 'pause') pauseRun();
      else if (action === 'resume') resumeRun();
      else if (action === 'step') stepOnce();
      else if (action === 'compare') queueComparison(compareStrategies(st.finetune, st.model.info!.config.nLayer));
      else startLessonFinetune();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // The run's own record says how it ended: all its steps ("done"), or stopped, or an error.
  const ended = current?.status;
  // The quiz's outcome, where the eye is (the quiz itself is below the fold of a 1280×720 projector).
  const factsAfter = current?.score?.model.knowledge?.knowledge;
  const factsBefore = current?.score?.snapshot?.knowledge?.knowledge;
  const status =
    run.status === 'running'
      ? t('present.running')
      : run.status === 'paused'
        ? t('present.paused')
        : ended === 'done'
          ? t('present.done')
          : ended === 'error'
            ? t('present.error')
            : t('present.idleStatus');
  return (
    <div className="present" data-testid="present-mode">
      <header className="present-bar">
        <h1>{t('app.title')}</h1>
        <p className="present-progress" data-testid="present-progress" data-status={run.status} data-step={run.step} aria-live="polite">
          {run.runId && run.phase
            ? t('present.progress', {
                // A compared strategy by its name: the line (and the quiz's score under it) is that strategy's, not the comparison's.
                phase: t(run.phase === 'pretrain' ? 'present.pretrain' : 'present.finetune') + (comparing && currentName ? ` · ${currentName}` : ''),
                step: run.step,
                steps: run.steps,
                status,
              })
            : t(ready ? 'present.ready' : hasModel ? 'present.waitPairs' : 'present.idle')}
          {run.queue.length > 0 && <> · {t('lessonMode.compareLeft', { n: run.queue.length })}</>}
          {factsAfter !== undefined && (
            <span className="present-facts" data-testid="present-facts">
              {t('present.facts', { before: pct(factsBefore), after: pct(factsAfter) })}
            </span>
          )}
        </p>
        <BackendBadge />
        <button type="button" data-testid="present-exit" onClick={() => setMode('lesson')}>
          {t('present.exit')}
        </button>
        {/* The keys where the room sees them, under the title (at the grid's end they were a screen below the fold). */}
        <p className="present-keys muted" data-testid="present-keys">
          {t('present.keys')}
        </p>
      </header>
      <main className="present-grid">
        <div className="present-chart">{comparing ? <PresentCompareChart /> : <LossChart height={PRESENT_CHART_PX} />}</div>
        <div className="present-diagram">
          {hasModel ? (
            <>
              {/* What the comparison shows, where a projector's screen shows it (the answers are below the fold). */}
              <CompareTakeaway />
              <ModelDiagram />
            </>
          ) : (
            <PresentStarter />
          )}
        </div>
        <div className="present-answers">{world ? <QuizView pageSize={LESSON_QUIZ_PAGE} /> : <RunsTable latest chart={!comparing} />}</div>
      </main>
    </div>
  );
}

/** No model yet: the lesson's starter, one button away (then F fine-tunes it). */
function PresentStarter() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const running = useStore((s) => s.run.status === 'running');
  const { starter } = useLessonStarter();
  const [loading, setLoading] = useState(false);
  return (
    <section className="panel present-starter" aria-labelledby="present-starter-title">
      <h2 id="present-starter-title">{t('present.startTitle')}</h2>
      {starter ? (
        <>
          <p className="muted small">{starter.title[lang]}</p>
          <button
            type="button"
            className="primary big"
            data-testid="present-starter"
            disabled={running || loading}
            aria-busy={loading}
            onClick={async () => {
              setLoading(true);
              await loadStarterHere(starter.id);
              setLoading(false);
            }}
          >
            {loading ? t('present.loading') : t('lessonMode.load')}
          </button>
        </>
      ) : (
        <p className="muted">{t('lessonMode.noStarter')}</p>
      )}
    </section>
  );
}

/**
 * The presentation's loss plot (and the comparison's): as tall as the model's diagram beside it (four blocks at the projector's 1280×720),
 * where the lab's 280 px left a third of the row empty under the chart.
 */
const PRESENT_CHART_PX = 400;

/** The latest comparison's strategies, each one's pairs and corpus validation losses (the lesson's step 5 chart). */
function PresentCompareChart() {
  const t = useT();
  const runs = useRunsForDisplay();
  const latest = useMemo(() => latestComparison(runs), [runs]);
  return (
    <section className="panel chart-panel" aria-labelledby="present-compare-title">
      <h2 id="present-compare-title">{t('present.compareTitle')}</h2>
      <CompareChart runs={latest} tooltip={false} height={PRESENT_CHART_PX} />
    </section>
  );
}
