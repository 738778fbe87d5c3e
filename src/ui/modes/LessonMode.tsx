/**
 * The lesson view (the default on a first visit): the lesson as five short steps — pick a starter, ask it,
 * fine-tune, read the quiz (or the answers), compare strategies — each with a sentence or two of what to notice
 * and the one control that matters; what the step shows (chart, diagram, quiz, runs) beside it; every other
 * setting folded under "All settings", a click away.
 */
import { useMemo, useState } from 'react';
import { useStore } from '../../store/store';
import { chat, queueComparison, scoringAnswers, startLessonFinetune, stopRun } from '../../app/controller';
import { compareStrategies } from '../../app/compare';
import type { Key } from '../../i18n/i18n';
import { formatNumber, useRunsForDisplay, useT, useText } from '../hooks';
import { LossChart } from '../charts/Charts';
import { ModelDiagram } from '../diagram/ModelDiagram';
import { LESSON_QUIZ_PAGE, QuizView } from '../panels/QuizView';
import { RunsTable } from '../panels/RunsTable';
import { LESSON_STEPS, lessonStepDone, runUnderWay, setLessonStep, setMode } from './view';
import { loadStarterHere, useLessonStarter } from './lessonStarter';
import { compareSummary, outcomes } from './compareSummary';
import { latestComparison, pct, signed } from '../runValues';

export function LessonMode({ settings }: { settings: React.ReactNode }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const step = useStore((s) => s.view.step);
  // The step's work done: "Next step" becomes the obvious button, the step's own a plain one.
  const done = useStore((s) => lessonStepDone(s, s.view.step));
  const { starter, world } = useLessonStarter();
  // Step 5 once strategies are compared: their chart leads (the loss chart would still show step 3's fine-tune).
  const compared = useStore((s) => latestComparison(s.runs).length > 0);
  const titles: Key[] = ['lessonMode.s1', 'lessonMode.s2', 'lessonMode.s3', world ? 'lessonMode.s4' : 'lessonMode.s4real', 'lessonMode.s5'];
  const notes: Key[] = [
    world ? 'lessonMode.n1world' : 'lessonMode.n1',
    'lessonMode.n2',
    world ? 'lessonMode.n3world' : 'lessonMode.n3',
    world ? 'lessonMode.n4' : 'lessonMode.n4real',
    'lessonMode.n5',
  ];
  const sees: Key[] = [
    world ? 'lessonMode.see1' : 'lessonMode.see1real',
    'lessonMode.see2',
    'lessonMode.see3',
    world ? 'lessonMode.see4' : 'lessonMode.see4real',
    'lessonMode.see5',
  ];
  return (
    <main>
      <div className="lesson-layout" data-testid="lesson-mode" data-step={step + 1}>
        <div className="lesson-side">
          <section className="panel lesson-step" aria-labelledby="lesson-step-title">
            <p className="muted small" data-testid="lesson-step-count">
              {t('lessonMode.step', { n: step + 1, total: LESSON_STEPS })}
            </p>
            <h2 id="lesson-step-title">{t(titles[step])}</h2>
            <p className="lesson-note">{t(notes[step])}</p>
            <div className="lesson-control">
              {step === 0 && <StarterStep id={starter?.id ?? null} title={starter?.title[lang] ?? ''} />}
              {step === 1 && <AskStep />}
              {step === 2 && <FinetuneStep done={done} />}
              {step === 3 && <QuizStep world={world} />}
              {step === 4 && <CompareStep />}
            </div>
            <nav className="row lesson-nav" aria-label={t('lessonMode.title')}>
              {step > 0 && (
                <button type="button" data-testid="lesson-back" onClick={() => setLessonStep(step - 1)}>
                  ← {t('lessonMode.back')}
                </button>
              )}
              {step < LESSON_STEPS - 1 ? (
                <button type="button" className={done ? 'primary' : undefined} data-testid="lesson-next" onClick={() => setLessonStep(step + 1)}>
                  {t('lessonMode.next')} →
                </button>
              ) : (
                // The lesson's end: not a dead "next" button, but where to go on (every setting, the same model and runs).
                <button type="button" data-testid="lesson-to-lab" onClick={() => setMode('lab')}>
                  {t('lessonMode.toLab')} →
                </button>
              )}
            </nav>
          </section>
          {/* The teaching moment: the quiz before → after beside the loss of the fine-tune that made it, in one
              screen at 1366×768 (test/e2e/teaching-moment.e2e.test.ts). */}
          {step === 3 && <LossChart height={230} />}
        </div>
        <div className="lesson-view" data-testid="lesson-view">
          {step <= 1 && <LessonRoadmap titles={titles} sees={sees} step={step} />}
          {(step === 2 || (step === 4 && !compared)) && <LossChart />}
          {step === 2 && <ModelDiagram />}
          {step === 3 && (world ? <QuizView pageSize={LESSON_QUIZ_PAGE} /> : <RunsTable />)}
          {step === 4 && <RunsTable latest />}
        </div>
      </div>
      <details className="panel all-settings" data-testid="all-settings">
        <summary>
          <h2>{t('lessonMode.allSettings')}</h2>
        </summary>
        {settings}
      </details>
    </main>
  );
}

/**
 * Where the lesson goes, beside its first steps (before there is a chart or a quiz to show): each step's title
 * and what it will show, the current one marked. Text only — the one control stays the step's own.
 */
function LessonRoadmap({ titles, sees, step }: { titles: Key[]; sees: Key[]; step: number }) {
  const t = useT();
  return (
    <section className="panel lesson-roadmap" data-testid="lesson-roadmap" aria-labelledby="lesson-roadmap-title">
      <h2 id="lesson-roadmap-title">{t('lessonMode.roadmap')}</h2>
      <ol>
        {titles.map((title, i) => (
          <li key={title} aria-current={i === step ? 'step' : undefined} className={i === step ? 'current' : undefined}>
            <strong>{t(title)}</strong>
            <span className="muted"> — {t(sees[i])}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function StarterStep({ id, title }: { id: string | null; title: string }) {
  const t = useT();
  const running = useStore((s) => s.run.status === 'running');
  const [loading, setLoading] = useState(false);
  if (!id) return <p className="muted">{t('lessonMode.noStarter')}</p>;
  return (
    <>
      <button
        type="button"
        className="primary big"
        data-testid="lesson-starter"
        disabled={running || loading}
        onClick={async () => {
          setLoading(true);
          const loaded = await loadStarterHere(id);
          setLoading(false);
          if (loaded) setLessonStep(1); // the lesson moves on by itself
        }}
      >
        {t('lessonMode.load')}
      </button>
      <p className="muted small">{title}</p>
    </>
  );
}

function AskStep() {
  const t = useT();
  const first = useStore((s) => s.pairs.list[0]?.prompt ?? '');
  const hasModel = useStore((s) => Boolean(s.model.info));
  const busy = useStore((s) => s.chat.busy);
  const reply = useStore((s) => [...s.chat.messages].reverse().find((m) => m.role === 'model')?.text ?? '');
  const [question, setQuestion] = useState<string | null>(null);
  const q = question ?? first;
  if (!hasModel) return <p className="warn">{t('lessonMode.needModel')}</p>;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (q.trim()) void chat(q.trim());
      }}
    >
      <div className="row">
        <label className="visually-hidden" htmlFor="lesson-question">
          {t('lessonMode.question')}
        </label>
        <input id="lesson-question" className="lesson-question" data-testid="lesson-question" value={q} onChange={(e) => setQuestion(e.target.value)} />
        <button type="submit" className="primary" data-testid="lesson-ask" disabled={busy || !q.trim()}>
          {t('lessonMode.ask')}
        </button>
      </div>
      {reply && (
        <figure className="lesson-reply">
          <figcaption className="muted small">{t('lessonMode.reply')}</figcaption>
          <pre data-testid="lesson-reply">{reply}</pre>
        </figure>
      )}
    </form>
  );
}

function FinetuneStep({ done }: { done: boolean }) {
  const t = useT();
  const hasModel = useStore((s) => Boolean(s.model.info));
  const ready = useStore((s) => Boolean(s.pairs.info));
  const run = useStore((s) => s.run);
  const scoring = useStore(scoringAnswers);
  const active = run.status === 'running' || run.status === 'paused';
  if (!hasModel) return <p className="warn">{t('lessonMode.needModel')}</p>;
  return (
    <>
      {active ? (
        <button type="button" data-testid="lesson-stop" onClick={stopRun}>
          {/* While the answers are scored, Stop ends the run without them: say so on the button. */}
          {scoring > 0 ? t('lessonMode.stopScoring') : t('lessonMode.stop')}
        </button>
      ) : (
        <button
          type="button"
          className={done ? undefined : 'primary big'}
          data-testid="lesson-finetune"
          disabled={!ready}
          onClick={() => startLessonFinetune()}
        >
          {t('lessonMode.finetune')}
        </button>
      )}
      {run.steps > 0 && run.phase === 'finetune' && (
        <p className="small" data-testid="lesson-progress" aria-live="polite">
          {t('lessonMode.progress', { step: run.step, steps: run.steps })}
          {/* After the last step (or Stop) the run scores its answers before it ends: say so, it can take a minute. */}
          {scoring > 0 && <> · {t('runs.scoring', { n: formatNumber(scoring) })}</>}
        </p>
      )}
    </>
  );
}

function QuizStep({ world }: { world: boolean }) {
  const t = useT();
  const scored = useStore((s) => s.runs.some((r) => r.phase === 'finetune' && (world ? r.score?.model.knowledge : r.score)));
  return scored ? null : <p className="muted">{t('lessonMode.needQuiz')}</p>;
}

export function CompareStep() {
  const t = useT();
  const f = useStore((s) => s.finetune);
  const model = useStore((s) => s.model.info);
  // A paused run is still under way: its strategy's progress and Stop stay, and no second comparison starts.
  const busy = useStore((s) => runUnderWay(s.run));
  // Once the comparison has said what it shows, that is what to read: its button is a plain one (as step 3's after
  // its fine-tune), not the blue one asking for the same minute of runs again.
  const compared = useCompareSummary() !== null;
  if (!model) return <p className="warn">{t('lessonMode.needModel')}</p>;
  return (
    <>
      <button
        type="button"
        className={compared && !busy ? undefined : 'primary big'}
        data-testid="lesson-compare"
        disabled={busy || !model.hasSnapshot}
        onClick={() => queueComparison(compareStrategies(f, model.config.nLayer))}
      >
        {t('lessonMode.compare')}
      </button>
      {busy ? <CompareProgress /> : <CompareTakeaway />}
    </>
  );
}

/**
 * While the strategies run (under a minute on two cores, one after another): which one, how far, how many are left,
 * and Stop (which drops the ones not yet started).
 */
function CompareProgress() {
  const t = useT();
  const text = useText();
  const run = useStore((s) => s.run);
  const name = useStore((s) => s.runs.find((r) => r.runId === s.run.runId)?.name);
  const scoring = useStore(scoringAnswers);
  const running = (run.status === 'running' || run.status === 'paused') && run.phase === 'finetune' && name !== undefined;
  return (
    <>
      {running && (
        <p className="small" data-testid="compare-progress" aria-live="polite">
          {t('lessonMode.compareProgress', { name: text(name), step: run.step, steps: run.steps })}
          {scoring > 0 && <> · {t('runs.scoring', { n: formatNumber(scoring) })}</>}
          {run.queue.length > 0 && <> · {t('lessonMode.compareLeft', { n: run.queue.length })}</>}
        </p>
      )}
      <button type="button" data-testid="lesson-compare-stop" disabled={run.pending === 'stop'} onClick={stopRun}>
        {/* While a strategy's answers are scored, Stop ends it without them (as in step 3): say so. */}
        {scoring > 0 ? t('lessonMode.stopScoring') : t('lessonMode.stop')}
      </button>
    </>
  );
}

/** What the latest comparison shows, or null before two of its strategies have finished. */
function useCompareSummary() {
  const runs = useRunsForDisplay();
  return useMemo(() => compareSummary(outcomes(runs)), [runs]);
}

/** Once the strategies have run: the comparison's outcome in three sentences (the table beside it has the figures). */
export function CompareTakeaway() {
  const t = useT();
  const summary = useCompareSummary();
  if (!summary) return null;
  const { leastForgetting: least, mostForgetting: most, mostFacts: facts } = summary;
  return (
    <section className="lesson-takeaway" data-testid="compare-takeaway" aria-labelledby="compare-takeaway-title">
      <h3 id="compare-takeaway-title">{t('lessonMode.summaryTitle')}</h3>
      <ul>
        <li data-testid="takeaway-least">
          {least.facts !== null
            ? t('lessonMode.summaryLeast', { name: least.name, delta: signed(least.forgetting), pct: pct(least.facts) })
            : t('lessonMode.summaryLeastNoQuiz', { name: least.name, delta: signed(least.forgetting) })}
        </li>
        {facts && <li data-testid="takeaway-facts">{t('lessonMode.summaryFacts', { name: facts.name, pct: pct(facts.facts) })}</li>}
        <li data-testid="takeaway-most">
          {most.facts !== null
            ? t('lessonMode.summaryMost', { name: most.name, delta: signed(most.forgetting), pct: pct(most.facts) })
            : t('lessonMode.summaryMostNoQuiz', { name: most.name, delta: signed(most.forgetting) })}
        </li>
      </ul>
    </section>
  );
}
