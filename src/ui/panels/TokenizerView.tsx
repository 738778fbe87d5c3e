/**
 * The tokenizer in the page: choosing it for a new model (characters, or BPE with a vocabulary size), the
 * BPE training's progress, and a view of the current model's tokens — the start of the text as coloured
 * spans, characters per token, one sentence by characters and by the model's tokenizer. Everything shown
 * is computed in the worker (TokenizerInfo): the page holds no tokenizer.
 */
import { memo } from 'react';
import { MAX_VOCAB, MIN_VOCAB } from '../../engine/tokenizer/bpeTrain';
import type { TokenPiece, TokenizerProgress } from '../../worker/protocol';
import { set, useStore } from '../../store/store';
import { cancelTokenizer } from '../../app/controller';
import type { Key } from '../../i18n/i18n';
import { NumberField, SelectField, Tip } from '../Field';
import { useT } from '../hooks';

/** Why a chosen vocabulary size cannot be used, or null (null size: the corpus's default). */
export function vocabProblem(size: number | null): { min: number; max: number } | null {
  if (size === null || (Number.isInteger(size) && size >= MIN_VOCAB && size <= MAX_VOCAB)) return null;
  return { min: MIN_VOCAB, max: MAX_VOCAB };
}

/** The progress bar's fraction and its line of text. */
export function progressView(p: TokenizerProgress): { fraction: number; key: Key; params: Record<string, number> } {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  if (p.phase === 'counting') return { fraction, key: 'tok.counting', params: { pct: Math.floor(fraction * 100) } };
  return { fraction, key: 'tok.merging', params: { done: p.done, total: p.total } };
}

/**
 * Choosing the next model's tokenizer, and the progress of a BPE training under way. Memoised, as the view
 * below: the model panel redraws on every training step (its step count), these only when their state changes.
 */
export const TokenizerChoice = memo(function TokenizerChoice({ disabled }: { disabled: boolean }) {
  const t = useT();
  const kind = useStore((s) => s.tokenizer.kind);
  const size = useStore((s) => s.tokenizer.vocabSize);
  const progress = useStore((s) => s.tokenizer.progress);
  const def = useStore((s) => s.data.info?.bpeDefaultVocab ?? null);
  const problem = vocabProblem(size);
  const view = progress && progressView(progress);
  return (
    <div className="tokenizer-choice">
      {/* One column: the select takes the row, the vocabulary's field below it (half a row cut the options' words). */}
      <div>
        <SelectField
          label={t('tok.kind')}
          value={kind}
          testId="tokenizer-select"
          disabled={disabled}
          options={[
            { value: 'char' as const, label: t('tok.char') },
            { value: 'bpe' as const, label: t('tok.bpe') },
          ]}
          onChange={(v) => set((s) => ({ tokenizer: { ...s.tokenizer, kind: v } }))}
        />
        {kind === 'bpe' && (
          <NumberField
            label={t('tok.vocab', { min: MIN_VOCAB, max: MAX_VOCAB })}
            value={size ?? NaN}
            min={MIN_VOCAB}
            max={MAX_VOCAB}
            step={64}
            disabled={disabled}
            testId="vocab-input"
            error={problem && t('tok.invalidVocab', problem)}
            onChange={(v) => set((s) => ({ tokenizer: { ...s.tokenizer, vocabSize: Number.isNaN(v) ? null : v } }))}
          />
        )}
      </div>
      {kind === 'bpe' && (
        <p className="muted small">
          {/* The tip's "?" always follows words: alone on its line it was a stray mark. */}
          {def !== null && size === null ? t('tok.vocabDefault', { n: def }) : t('tok.about')} <Tip>{t('tok.tip')}</Tip>
        </p>
      )}
      {view && (
        <div className="progress" data-testid="tokenizer-progress">
          <span>{t(view.key, view.params)}</span>
          <progress value={view.fraction} max={1} />
          <button type="button" data-testid="tokenizer-cancel" onClick={cancelTokenizer}>
            {t('tok.cancel')}
          </button>
        </div>
      )}
    </div>
  );
});

/** Spans in alternating colours, one per piece; hovering shows the token ids. */
export function Pieces({ pieces, testId }: { pieces: TokenPiece[]; testId: string }) {
  return (
    <p className="tokens" data-testid={testId} data-count={pieces.length}>
      {pieces.map((p, i) => (
        <span key={i} className={`tok tok${i % 4}`} data-testid="tok-piece" title={p.ids.join(' ')}>
          {p.text.replace(/\n/g, '↵\n')}
        </span>
      ))}
    </p>
  );
}

/** The current model's tokenizer: what its tokens look like on this text. */
export const TokenizerView = memo(function TokenizerView() {
  const t = useT();
  const info = useStore((s) => s.tokenizer.info);
  if (!info) return null;
  return (
    <div className="tokenizer-view" data-testid="tokenizer-view" data-kind={info.kind}>
      <h3>{t('tok.title')}</h3>
      <p className="small" data-testid="tokenizer-summary">
        {t('tok.summary', { kind: t(info.kind === 'bpe' ? 'tok.nameBpe' : 'tok.nameChar'), vocab: info.vocabSize, cpt: info.charsPerToken.val.toFixed(2) })}
      </p>
      <p className="muted small">{t('tok.sample')}</p>
      <Pieces pieces={info.sample} testId="tokenizer-sample" />
      <p className="muted small">{t('tok.compare', { charN: info.sentence.char.length, modelN: info.sentence.model.length })}</p>
      <div className="grid2">
        <div>
          <h4 className="small">{t('tok.byChar')}</h4>
          <Pieces pieces={info.sentence.char} testId="tokenizer-char" />
        </div>
        <div>
          <h4 className="small">{t('tok.byModel')}</h4>
          <Pieces pieces={info.sentence.model} testId="tokenizer-model" />
        </div>
      </div>
    </div>
  );
});
