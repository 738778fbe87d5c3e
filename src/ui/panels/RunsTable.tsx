import { updateRun, useStore, type RunRecord } from '../../store/store';
import { deleteRun, exportModel } from '../../app/controller';
import { useEffect, useMemo, useRef, useState } from 'react';
import { CompareChart, compareColors } from '../charts/Charts';
import { download, formatDuration, formatNumber, useRunsForDisplay, useT, type ShownRun } from '../hooks';
import { EVAL } from '../../engine/train/evalNames';
import { UnseenMark, UnseenNote } from './QuizView';
import { chancePct, corpusChange, lastEval, latestComparison, pct, runFileName, shownReply, signed } from '../runValues';

/** "before → after" of one score, or what is happening instead. */
function ScoreCell({ r, which, t }: { r: RunRecord; which: 'format' | 'words' | 'sameLength'; t: ReturnType<typeof useT> }) {
  if (r.scoring) return <td className="muted small">{t('runs.scoring', { n: formatNumber(r.scoring) })}</td>;
  if (!r.score) return <td>–</td>;
  const after = r.score.model[which];
  const before = r.score.snapshot?.[which];
  return (
    <td data-testid={`run-${which}`} data-after={after ?? ''} data-before={before ?? ''}>
      {before !== undefined ? `${pct(before)} → ` : ''}
      <strong>{pct(after)}</strong>
    </td>
  );
}

/** The quiz's "before → after" (share of right facts), when the pairs bring a quiz. */
function KnowledgeCell({ r }: { r: RunRecord }) {
  const after = r.score?.model.knowledge;
  if (r.scoring) return <td className="muted small">…</td>;
  if (!after) return <td>–</td>;
  const before = r.score?.snapshot?.knowledge;
  return (
    <td data-testid="run-knowledge" data-after={after.knowledge} data-before={before?.knowledge ?? ''}>
      {before ? `${pct(before.knowledge)} → ` : ''}
      <strong>{pct(after.knowledge)}</strong>
    </td>
  );
}

/**
 * A run's name as text that wraps, whole (a strategy's name is what a student compares by: "full, long (5× steps,
 * lr 0.002)" did not fit an input in the table's narrow first column), with the colour of its curves in the chart
 * beside it. A click edits it in place: Enter or leaving the field keeps what was typed (a blank name keeps the old
 * one), Escape puts the old one back; the keyboard's focus returns to the name. The field shows what is typed at
 * once (its own draft): the runs reach the table at most once a second while one trains.
 */
function RunName({ r, color }: { r: ShownRun; color: string | undefined }) {
  const t = useT();
  // While editing: what is typed, and the name before (Escape and a blank name restore it).
  const [edit, setEdit] = useState<{ draft: string; before: string } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  useEffect(() => {
    if (edit || !refocus.current) return;
    refocus.current = false;
    button.current?.focus();
  }, [edit]);
  const end = (keep: boolean) => {
    if (!edit) return;
    if (!keep || !edit.draft.trim()) updateRun(r.runId, () => ({ name: edit.before }));
    setEdit(null);
  };
  return (
    <td>
      <div className="run-name">
        <span className="run-swatch" aria-hidden="true" style={color ? { background: color } : undefined} data-color={color ?? ''} />
        {edit ? (
          <input
            autoFocus
            aria-label={t('runs.rename')}
            value={edit.draft}
            onChange={(e) => {
              const name = e.target.value;
              setEdit({ ...edit, draft: name });
              updateRun(r.runId, () => ({ name }));
            }}
            onBlur={() => end(true)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter' && e.key !== 'Escape') return;
              refocus.current = true;
              end(e.key === 'Enter');
            }}
          />
        ) : (
          <button
            ref={button}
            type="button"
            className="run-name-text"
            data-testid="run-name"
            title={t('runs.rename')}
            onClick={() => setEdit({ draft: r.name, before: r.name })}
          >
            {r.name}
          </button>
        )}
      </div>
    </td>
  );
}

/** A run's first replies to the held-out prompts, beside the pretrained model's to the same prompts where it has them. */
function ScoreExamples({ name, score, prompts }: { name: string; score: NonNullable<RunRecord['score']>; prompts: number }) {
  const t = useT();
  const before = score.snapshot?.examples;
  // Held-out prompts that are the quiz's questions in a wording no pair uses (the small world's): marked as the quiz
  // marks them, since a reply in the pairs' form can then state the wrong fact ("What animal lives with Hank?").
  const unseen = new Set(score.model.knowledge?.answers.filter((a) => a.unseenWording).map((a) => a.prompt));
  const marked = score.model.examples.some((x) => unseen.has(x.prompt));
  return (
    <details className="examples" data-testid="score-examples" open>
      <summary>
        {t('runs.examples')} ({name}) · <span className="muted small">{t('runs.formatTip', { n: prompts })}</span>
      </summary>
      <table className="runs">
        <thead>
          <tr>
            <th>{t('runs.examplePrompt')}</th>
            {before && <th>{t('quiz.before')}</th>}
            <th>{t('quiz.after')}</th>
          </tr>
        </thead>
        <tbody>
          {score.model.examples.map((x, i) => (
            <tr key={i}>
              <td>
                {x.prompt}
                {unseen.has(x.prompt) && <UnseenMark />}
              </td>
              {before && <td className="muted">{before[i] ? shownReply(before[i].text, t('quiz.empty'), { max: 120 }) : ''}</td>}
              <td className={x.ok ? '' : 'warn'}>{shownReply(x.text, t('quiz.empty'))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {marked && <UnseenNote />}
    </details>
  );
}

/**
 * Fine-tuning runs side by side: curves, and a table of what each strategy cost and bought. `latest` (the lesson's
 * last step): once a comparison has started, only its strategies — a second comparison's curves drawn over the
 * first's (the same strategies, the same seed) made thirteen curves in eight colours; the lab shows every run.
 * `chart`: false where the view draws the comparison's chart elsewhere (the presentation).
 */
export function RunsTable({ latest = false, chart = true }: { latest?: boolean; chart?: boolean }) {
  const t = useT();
  const every = useRunsForDisplay();
  const tunes = every.filter((r) => r.phase === 'finetune');
  const compared = useMemo(() => (latest ? latestComparison(every) : []), [every, latest]);
  // What the chart and the table show: the latest comparison's strategies where asked for and begun, else every fine-tune.
  const runs = compared.length ? compared : tunes;
  const colors = compareColors(runs);
  // The trainable share: a LoRA run trains a few per cent of the model, a full fine-tune all of it.
  const modelParams = useStore((s) => s.model.info?.params ?? 0);
  const scored = [...runs].reverse().find((r) => r.score);
  const prompts = scored?.score?.model.prompts ?? 40;
  // Couplets: the share of replies as long as their prompt takes the place of the word share. Neither where no run
  // has one (Chinese questions and answers: no words to check, no lines to match), rather than a column of dashes.
  const has = (which: 'sameLength' | 'words') => runs.some((r) => r.score?.model[which] !== null && r.score?.model[which] !== undefined);
  const second = has('sameLength') ? ('sameLength' as const) : has('words') ? ('words' as const) : null;
  const unspaced = second === 'sameLength';
  const quiz = scored?.score?.model.knowledge;
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">{t('runs.title')}</h2>
      {!runs.length && <p className="muted">{t('runs.empty')}</p>}
      {runs.length < tunes.length && (
        <p className="muted small" data-testid="runs-latest">
          {t('runs.latestOnly', { shown: runs.length, total: tunes.length })}
        </p>
      )}
      {chart && <CompareChart runs={runs} />}
      {runs.length > 0 && (
        // Eleven columns do not fit a phone: the table scrolls sideways inside its panel, not the whole page.
        <div className="table-scroll">
          <table className="runs" data-testid="runs-table">
            <thead>
              <tr>
                <th>{t('runs.name')}</th>
                <th>{t('runs.pairsVal')}</th>
                <th>{t('runs.corpusDelta')}</th>
                <th title={t('runs.formatTip', { n: prompts })}>{t('runs.format')}</th>
                {second && <th title={unspaced ? t('runs.sameLengthTip') : t('runs.wordsTip')}>{unspaced ? t('runs.sameLength') : t('runs.words')}</th>}
                {quiz && (
                  <th title={t('runs.knowledgeTip', { n: quiz.answers.length, chance: chancePct(quiz.chance) })}>
                    {t('runs.knowledge')} <span className="muted small">({t('runs.chance', { chance: chancePct(quiz.chance) })})</span>
                  </th>
                )}
                <th className="unit">{t('runs.ms')}</th>
                <th>{t('runs.trainable')}</th>
                <th className="short">{t('runs.wall')}</th>
                <th className="short">{t('runs.status')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const pv = lastEval(r, EVAL.pairsVal);
                const forgot = corpusChange(r);
                return (
                  <tr key={r.runId} data-testid="run-row" className={r.hidden ? 'hidden-run' : ''}>
                    <RunName r={r} color={colors.get(r.runId)} />
                    <td>{pv?.toFixed(3) ?? '–'}</td>
                    <td>{forgot !== undefined ? signed(forgot) : '–'}</td>
                    <ScoreCell r={r} which="format" t={t} />
                    {second && <ScoreCell r={r} which={second} t={t} />}
                    {quiz && <KnowledgeCell r={r} />}
                    <td>{r.msPerStep ? r.msPerStep.toFixed(0) : '–'}</td>
                    <td data-testid="run-trainable">
                      {formatNumber(r.trainableParams)}
                      {modelParams ? <span className="muted small"> ({((100 * r.trainableParams) / modelParams).toFixed(1)}%)</span> : null}
                    </td>
                    <td>{formatDuration(r.wallMs)}</td>
                    <td data-status={r.status}>{t(`status.${r.status}`)}</td>
                    <td>
                      {/* A flex box inside the cell, not the cell itself: a flex cell leaves the table's row lines. */}
                      <div className="run-actions">
                        <button type="button" onClick={() => updateRun(r.runId, (x) => ({ hidden: !x.hidden }))}>
                          {r.hidden ? t('runs.show') : t('runs.hide')}
                        </button>
                        <button
                          type="button"
                          data-testid="run-export"
                          disabled={r.status === 'running' || r.status === 'paused'}
                          onClick={async () => {
                            const bytes = await exportModel('run', { runId: r.runId, name: r.name });
                            if (bytes) download(runFileName(r.name), bytes);
                          }}
                        >
                          {t('runs.export')}
                        </button>
                        {r.request?.lora && (
                          <button
                            type="button"
                            data-testid="run-export-adapter"
                            disabled={r.status === 'running' || r.status === 'paused'}
                            onClick={async () => {
                              const bytes = await exportModel('run', { runId: r.runId, name: r.name }, true);
                              if (bytes) download(runFileName(r.name, '-lora'), bytes);
                            }}
                          >
                            {t('runs.exportAdapter')}
                          </button>
                        )}
                        <button type="button" disabled={r.status === 'running'} onClick={() => deleteRun(r.runId)}>
                          {t('runs.delete')}
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {scored?.score && <ScoreExamples name={scored.name} score={scored.score} prompts={prompts} />}
    </section>
  );
}
