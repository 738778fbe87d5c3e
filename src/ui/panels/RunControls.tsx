import { set, useStore } from '../../store/store';
import { NumberField } from '../Field';
import { pauseRun, resumeRun, scoringAnswers, stepOnce, stopRun } from '../../app/controller';
import { formatDuration, formatNumber, useT, useText } from '../hooks';

/**
 * On a narrow screen (one column: the chart sits below every form), bring the loss chart into view when a
 * run starts; on a wide one the chart's column stays in view beside the forms by itself.
 */
function showChart(): void {
  if (typeof window.matchMedia !== 'function' || !window.matchMedia('(max-width: 1100px)').matches) return;
  document.querySelector('[data-testid=loss-chart]')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

/** Pause / Resume / Stop / Step once and the progress bar of the current run. */
export function RunControls({ phase, onStart, canStart }: { phase: 'pretrain' | 'finetune'; onStart: () => void; canStart: boolean }) {
  const t = useT();
  const text = useText();
  const run = useStore((s) => s.run);
  const scoring = useStore(scoringAnswers);
  const backend = useStore((s) => s.backend.report?.name);
  const mine = run.phase === phase && run.runId !== null;
  const running = run.status === 'running';
  const paused = mine && run.status === 'paused';
  const remaining = run.steps - run.step;
  const eta = run.msPerStep * remaining;
  const pct = run.steps ? Math.round((run.step / run.steps) * 100) : 0;
  return (
    <div className="controls">
      <div className="row">
        <button type="button" className="primary" data-testid={`${phase}-start`} disabled={running || !canStart} onClick={() => (onStart(), showChart())}>
          {phase === 'pretrain' ? t('train.start') : t('ft.start')}
        </button>
        <button type="button" data-testid={`${phase}-pause`} disabled={!(mine && running) || Boolean(run.pending) || scoring > 0} onClick={pauseRun}>
          {t('train.pause')}
        </button>
        <button type="button" data-testid={`${phase}-resume`} disabled={!paused} onClick={resumeRun}>
          {t('train.resume')}
        </button>
        <button type="button" disabled={!paused} onClick={stepOnce}>
          {t('train.stepOnce')}
        </button>
        <button type="button" data-testid={`${phase}-stop`} disabled={!(mine && (running || paused)) || run.pending === 'stop'} onClick={stopRun}>
          {t('train.stop')}
        </button>
      </div>
      <Breakpoints phase={phase} disabled={running} />
      {mine && (
        <div className="progress" data-testid={`${phase}-progress`}>
          <progress max={100} value={pct} aria-label={t('train.progress', { step: run.step, steps: run.steps })} />
          <span>
            {t('train.progress', { step: run.step, steps: run.steps })} ·{' '}
            {running ? t('train.eta', { eta: formatDuration(eta) }) : paused ? t('train.paused') : t('train.idle')} ·{' '}
            {t('train.speed', { tps: formatNumber(Math.round(run.tokensPerSec)), ms: run.msPerStep.toFixed(0) })} · {t('train.on', { backend: backend ?? '?' })}
            {/* After its steps a fine-tune scores its answers before it ends (Pause is off then; Stop skips it). */}
            {mine && scoring > 0 && <> · {t('runs.scoring', { n: formatNumber(scoring) })}</>}
          </span>
          {run.pending && running && (
            <span className="muted" data-testid={`${phase}-pending`}>
              {run.pending === 'pause' ? t('train.pausing') : t('train.stopping')}
            </span>
          )}
          {run.queue.length > 0 && <span className="muted">{t('run.queue', { names: run.queue.map((q) => text(q.name)).join(', ') })}</span>}
        </div>
      )}
    </div>
  );
}

/** Breakpoints for the next run: pause at a step, pause when the held-out loss stops improving. */
function Breakpoints({ phase, disabled }: { phase: 'pretrain' | 'finetune'; disabled: boolean }) {
  const t = useT();
  const bp = useStore((s) => s.breakpoints);
  const setBp = (patch: Partial<typeof bp>) => set((s) => ({ breakpoints: { ...s.breakpoints, ...patch } }));
  const whole = (v: number) => (Number.isInteger(v) && v > 0 ? v : null);
  return (
    <details className="breakpoints">
      <summary>{t('train.breakpointsTip')}</summary>
      <div className="row">
        <NumberField
          label={t('train.breakAt')}
          value={bp.atStep ?? NaN}
          min={1}
          disabled={disabled}
          testId={`${phase}-break-at`}
          onChange={(v) => setBp({ atStep: whole(v) })}
        />
        <NumberField
          label={t('train.patience')}
          value={bp.patience ?? NaN}
          min={1}
          disabled={disabled}
          testId={`${phase}-patience`}
          onChange={(v) => setBp({ patience: whole(v) })}
        />
      </div>
    </details>
  );
}
