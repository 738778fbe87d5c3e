/**
 * The small world's quiz after a fine-tune: each question about a person the training pairs never mention,
 * the answer the pairs' form expects, the pretrained snapshot's reply and the fine-tuned model's, right or
 * wrong. Paged (never more than PAGE rows in the page), filterable to the mistakes.
 */
import { useState } from 'react';
import type { KnowledgeSummary } from '../../worker/protocol';
import { useRunsForDisplay, useT } from '../hooks';
import { chancePct, pct, rightByWording, shownReply } from '../runValues';

export const QUIZ_PAGE = 20;
/**
 * Rows per page in the lesson and the presentation: few enough that the quiz and the loss chart share one 1366×768
 * screen in the lesson, and that a projector's 1280×720 shows most of a page.
 */
export const LESSON_QUIZ_PAGE = 6;

/** After a question asked in a wording no training pair uses: a star, its meaning on hover (and in UnseenNote). */
export function UnseenMark() {
  const t = useT();
  return (
    // A no-break space: the star stays on its question's last line instead of wrapping onto one of its own.
    <span className="muted small" title={t('quiz.unseen')}>
      {'\u00a0*'}
    </span>
  );
}

/** A quiz reply as shown: what stands for nothing, or the reply with an ellipsis where the token limit cut it. */
export const replyText = (a: { reply: string; cut?: boolean }, empty: string): string => shownReply(a.reply, empty, { cut: a.cut });

/** Under a table with UnseenMarks: what the star means. */
export function UnseenNote() {
  const t = useT();
  return <p className="muted small">* {t('quiz.unseen')}</p>;
}

/** `pageSize`: rows per page (the lab's 20; the lesson shows fewer, to keep the loss chart in the same screen). */
export function QuizView({ pageSize = QUIZ_PAGE }: { pageSize?: number }) {
  const t = useT();
  const runs = useRunsForDisplay().filter((r) => r.phase === 'finetune' && r.score?.model.knowledge);
  const [chosen, setChosen] = useState<string | null>(null);
  const [mistakes, setMistakes] = useState(false);
  const [page, setPage] = useState(0);
  const run = runs.find((r) => r.runId === chosen) ?? runs[runs.length - 1];
  const after: KnowledgeSummary | null | undefined = run?.score?.model.knowledge;
  const before = run?.score?.snapshot?.knowledge ?? null;
  // A few hundred answers: rebuilt on each render, no memo needed.
  const all = (after?.answers ?? []).map((a, i) => ({ a, b: before?.answers[i], i }));
  const rows = mistakes ? all.filter((r) => !r.a.fact) : all;
  if (!run || !after) return null;
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  const p = Math.min(page, pages - 1);
  const shown = rows.slice(p * pageSize, (p + 1) * pageSize);
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? '✓' : '✗');
  // Where the quiz asks both ways, the fine-tuned model's right facts by wording: its mistakes are mostly in the new ones.
  const wording = rightByWording(after.answers);
  return (
    <section className="panel quiz" aria-labelledby="quiz-title" data-testid="quiz-view" data-knowledge={after.knowledge} data-before={before?.knowledge ?? ''}>
      <h2 id="quiz-title">{t('quiz.title')}</h2>
      <p className="muted">{t('quiz.intro')}</p>
      <p className="quiz-summary" data-testid="quiz-summary">
        {t('quiz.summary', {
          before: before ? pct(before.knowledge) : '–',
          after: pct(after.knowledge),
          chance: chancePct(after.chance),
          person: pct(after.person),
        })}
        {wording.seen !== null && wording.unseen !== null && (
          <span className="muted quiz-wording" data-testid="quiz-by-wording">
            {' '}
            {t('quiz.byWording', { seen: pct(wording.seen), unseen: pct(wording.unseen) })}
          </span>
        )}
      </p>
      <div className="row">
        {runs.length > 1 && (
          <label>
            {t('quiz.run')}{' '}
            <select value={run.runId} onChange={(e) => (setChosen(e.target.value), setPage(0))}>
              {runs.map((r) => (
                <option key={r.runId} value={r.runId}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          <input type="checkbox" checked={mistakes} data-testid="quiz-mistakes" onChange={(e) => (setMistakes(e.target.checked), setPage(0))} />{' '}
          {t('quiz.mistakes')}
        </label>
      </div>
      {/* The presentation's large type makes it wider than a phone: it scrolls inside its panel, not the page. */}
      <div className="table-scroll">
        <table className="runs quiz-table">
          <thead>
            <tr>
              <th>{t('quiz.question')}</th>
              <th>{t('quiz.expected')}</th>
              <th>{t('quiz.before')}</th>
              <th>{t('quiz.after')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map(({ a, b, i }) => (
              <tr key={i} data-testid="quiz-row" data-right={a.fact}>
                <td>
                  {a.prompt}
                  {a.unseenWording && <UnseenMark />}
                </td>
                <td className="muted">{a.expected}</td>
                <td className={b?.fact ? '' : 'muted'}>
                  <span aria-label={b ? t(b.fact ? 'quiz.right' : 'quiz.wrong') : undefined}>{mark(b?.fact)}</span> {b ? replyText(b, t('quiz.empty')) : '–'}
                </td>
                <td className={a.fact ? 'right' : 'warn'}>
                  <span aria-label={t(a.fact ? 'quiz.right' : 'quiz.wrong')}>{mark(a.fact)}</span> {replyText(a, t('quiz.empty'))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <UnseenNote />
      <div className="row">
        <button type="button" disabled={p === 0} onClick={() => setPage(p - 1)}>
          {t('quiz.prev')}
        </button>
        <span className="small" data-testid="quiz-page">
          {t('quiz.page', { from: rows.length ? p * pageSize + 1 : 0, to: Math.min(rows.length, (p + 1) * pageSize), n: rows.length })}
        </span>
        <button type="button" disabled={p >= pages - 1} onClick={() => setPage(p + 1)}>
          {t('quiz.next')}
        </button>
      </div>
    </section>
  );
}
