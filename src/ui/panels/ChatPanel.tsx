import { useEffect, useRef, useState, type FormEvent } from 'react';
import { set, useStore, type ChatMessage } from '../../store/store';
import { chat } from '../../app/controller';
import { NumberField } from '../Field';
import { useT } from '../hooks';
import { useFollowEnd } from '../follow';

export function ChatPanel() {
  const t = useT();
  const messages = useStore((s) => s.chat.messages);
  const busy = useStore((s) => s.chat.busy);
  const compare = useStore((s) => s.chat.compare);
  const sampling = useStore((s) => s.sampling);
  const hasModel = useStore((s) => s.model.info !== null);
  const hasSnapshot = useStore((s) => s.model.info?.hasSnapshot ?? false);
  const [prompt, setPrompt] = useState('');
  /** The token whose alternatives are shown: message index and token index. */
  const [picked, setPicked] = useState<{ msg: number; tok: number } | null>(null);
  // a streamed reply grows its last message: follow both new messages and new tokens
  const follow = useFollowEnd<HTMLDivElement>(`${messages.length}:${messages.at(-1)?.text.length ?? 0}`);
  const update = (patch: Partial<typeof sampling>) => set((s) => ({ sampling: { ...s.sampling, ...patch } }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void chat(prompt);
  };
  return (
    <section className="panel" aria-labelledby="chat-title">
      <h2 id="chat-title">{t('chat.title')}</h2>
      <div className="chat-log" data-testid="chat-log" aria-live="polite" {...follow}>
        {messages.map((m, i) => (
          <div key={i} className={`msg ${m.role}`} data-testid={`msg-${m.role}`}>
            <span className="who">{m.role === 'user' ? t('chat.you') : m.role === 'snapshot' ? t('chat.snapshot') : t('chat.model')}</span>
            {m.tokens?.some((x) => x.why) ? (
              <Reply
                message={m}
                picked={picked?.msg === i ? picked.tok : null}
                onPick={(tok) => setPicked(picked?.msg === i && picked.tok === tok ? null : { msg: i, tok })}
              />
            ) : (
              <pre>{m.text}</pre>
            )}
          </div>
        ))}
      </div>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="chat-prompt">{t('chat.prompt')}</label>
          <textarea id="chat-prompt" data-testid="chat-prompt" rows={2} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </div>
        <div className="grid3">
          <NumberField
            label={t('chat.temperature')}
            value={sampling.temperature}
            min={0}
            step={0.1}
            onChange={(v) => update({ temperature: Math.max(0, v || 0) })}
          />
          <NumberField label={t('chat.topK')} value={sampling.topK} min={0} onChange={(v) => update({ topK: Math.max(0, Math.floor(v || 0)) })} />
          <NumberField
            label={t('chat.topP')}
            value={sampling.topP}
            min={0}
            max={1}
            step={0.05}
            onChange={(v) => update({ topP: Math.min(1, Math.max(0, v || 0)) })}
          />
          <NumberField
            label={t('chat.maxTokens')}
            value={sampling.maxNewTokens}
            min={1}
            testId="chat-max-tokens"
            onChange={(v) => update({ maxNewTokens: Math.max(1, Math.floor(v || 1)) })}
          />
          <NumberField
            label={t('chat.seed')}
            value={sampling.seed}
            min={0}
            testId="chat-seed"
            onChange={(v) => update({ seed: Math.max(0, Math.floor(v || 0)) })}
          />
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={compare}
            disabled={!hasSnapshot}
            data-testid="chat-compare"
            onChange={(e) => set((s) => ({ chat: { ...s.chat, compare: e.target.checked } }))}
          />{' '}
          {/* One text box beside the checkbox (the label is a flex row: the reason was a column of its own on a phone). */}
          <span>
            {t('chat.compare')}
            {/* Why it cannot be ticked yet, where it says what it does. */}
            {!hasSnapshot && <span className="muted small"> ({t('chat.compareNeedsSnapshot')})</span>}
          </span>
        </label>
        <div className="row">
          <button type="submit" className="primary" data-testid="chat-send" disabled={!hasModel || busy}>
            {t('chat.send')}
          </button>
          <button type="button" disabled={busy || !messages.length} onClick={() => set((s) => ({ chat: { ...s.chat, messages: [] } }))}>
            {t('chat.clear')}
          </button>
        </div>
        <p className="muted small">
          {t('chat.hint')} {t('chat.tokensHint')}
        </p>
      </form>
    </section>
  );
}

const pct = (p: number) => `${(p * 100).toFixed(p < 0.01 ? 1 : 0)}%`;
/**
 * A token as the list of choices shows it: a space, a line break and a tab as visible marks (a bare space read as an
 * empty label), nothing as ∅, every other character as itself (not JSON-escaped: a quote is ", not \").
 */
const shownToken = (text: string) => (text === '' ? '∅' : text.replace(/ /g, '␣').replace(/\n/g, '↵').replace(/\t/g, '⇥'));

/**
 * A reply as its tokens, each coloured by the probability the model gave it (pale: likely, orange: a
 * long shot); clicking one shows the model's five most likely choices at that position.
 */
function Reply({ message, picked, onPick }: { message: ChatMessage; picked: number | null; onPick: (tok: number) => void }) {
  const t = useT();
  const tokens = message.tokens ?? [];
  const why = picked === null ? undefined : tokens[picked]?.why;
  // The choices open below the reply: under a long one they would open out of sight, so bring them into view.
  const detail = useRef<HTMLDivElement>(null);
  useEffect(() => {
    detail.current?.scrollIntoView?.({ block: 'nearest' });
  }, [picked]);
  return (
    <>
      <pre className="tokens">
        {tokens.map((x, k) => {
          const p = x.why?.p ?? 1;
          return (
            <span
              key={k}
              className={`token${picked === k ? ' picked' : ''}`}
              data-testid="token"
              data-p={p}
              style={{ background: `rgba(234, 88, 12, ${(0.6 * (1 - p)).toFixed(2)})` }}
              title={x.why ? `${pct(p)} · ${x.why.top.map((c) => `${shownToken(c.text)} ${pct(c.p)}`).join(', ')}` : undefined}
              onClick={() => onPick(k)}
            >
              {x.text}
            </span>
          );
        })}
      </pre>
      {why && picked !== null && (
        <div className="token-why" data-testid="token-why" ref={detail}>
          {t('chat.tokenWhy', { token: shownToken(tokens[picked].text), p: pct(why.p) })}
          <ol>
            {why.top.map((c, j) => (
              <li key={j} className={c.text === tokens[picked].text ? 'chosen' : ''}>
                <code>{shownToken(c.text)}</code> {pct(c.p)}
                <span className="bar" style={{ width: `${Math.round(c.p * 100)}%` }} />
              </li>
            ))}
          </ol>
        </div>
      )}
    </>
  );
}
