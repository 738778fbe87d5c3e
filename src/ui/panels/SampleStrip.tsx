import { useRunsForDisplay, useT } from '../hooks';
import { useFollowEnd } from '../follow';
import { shownReply } from '../runValues';

/** Samples taken every N steps during training: how the text improves. */
export function SampleStrip() {
  const t = useT();
  const runs = useRunsForDisplay().filter((r) => r.samples.length > 0 && !r.hidden);
  const follow = useFollowEnd<HTMLOListElement>(runs.reduce((n, r) => n + r.samples.length, 0));
  if (!runs.length) return null;
  return (
    <section className="panel" aria-labelledby="samples-title">
      <h2 id="samples-title">{t('train.samples')}</h2>
      <ol className="strip" data-testid="sample-strip" {...follow}>
        {runs.flatMap((r) =>
          r.samples.map((x) => (
            <li key={`${r.runId}-${x.step}`}>
              <span className="badge">
                {r.name} · {t('train.sampleAt', { step: x.step })}
                {r.phase === 'finetune' && r.request?.samplePrompt ? ` · ${t('train.sampleAsked', { prompt: r.request.samplePrompt })}` : ''}
              </span>
              {/* A fine-tune's reply without the line break a model may start with; nothing said is said so. */}
              <pre>{r.phase === 'finetune' ? shownReply(x.text, t('quiz.empty')) : x.text}</pre>
            </li>
          )),
        )}
      </ol>
    </section>
  );
}
