/**
 * Attention maps: for a prompt, where each position looks — one heatmap per layer and head (query rows ×
 * key columns, the causal triangle), tokens on the axes. Drawn on a canvas: a 192-token context is 37k cells.
 */
import { useEffect, useRef, useState } from 'react';
import { set, useStore } from '../../store/store';
import { showAttention } from '../../app/controller';
import { SelectField } from '../Field';
import { useT } from '../hooks';

const MAX_PX = 440;
const LABEL_PX = 36;

export function AttentionPanel() {
  const t = useT();
  const att = useStore((s) => s.attention);
  const hasModel = useStore((s) => s.model.info !== null);
  const [prompt, setPrompt] = useState('');
  const lastPrompt = useStore((s) => [...s.chat.messages].reverse().find((m) => m.role === 'user')?.text ?? '');
  const maps = att.maps;
  return (
    <section className="panel" aria-labelledby="attention-title">
      <h2 id="attention-title">{t('att.title')}</h2>
      <p className="muted small">{t('att.intro')}</p>
      <div className="field">
        <label htmlFor="attention-prompt">{t('att.prompt')}</label>
        <textarea
          id="attention-prompt"
          data-testid="attention-prompt"
          rows={2}
          value={prompt}
          placeholder={lastPrompt}
          onChange={(e) => setPrompt(e.target.value)}
        />
      </div>
      <button
        type="button"
        className="primary"
        data-testid="attention-show"
        disabled={!hasModel || att.busy}
        onClick={() => void showAttention(prompt || lastPrompt)}
      >
        {t('att.show')}
      </button>
      {maps && (
        <>
          <div className="grid3">
            <SelectField
              label={t('att.layer')}
              value={String(att.layer)}
              testId="attention-layer"
              options={Array.from({ length: maps.layers }, (_, i) => ({ value: String(i), label: String(i + 1) }))}
              onChange={(v) => set((s) => ({ attention: { ...s.attention, layer: Number(v) } }))}
            />
            <SelectField
              label={t('att.head')}
              value={String(att.head)}
              testId="attention-head"
              options={Array.from({ length: maps.heads }, (_, i) => ({ value: String(i), label: String(i + 1) }))}
              onChange={(v) => set((s) => ({ attention: { ...s.attention, head: Number(v) } }))}
            />
          </div>
          <Heatmap tokens={maps.tokens} weights={maps.weights} layers={maps.layers} heads={maps.heads} layer={att.layer} head={att.head} />
          <p className="muted small">{t('att.how')}</p>
        </>
      )}
    </section>
  );
}

const label = (s: string) => (s === '\n' ? '↵' : s === ' ' ? '·' : s);

function Heatmap(p: { tokens: string[]; weights: Float32Array; layers: number; heads: number; layer: number; head: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const T = p.tokens.length;
  const cell = Math.max(2, Math.min(16, Math.floor(MAX_PX / T)));
  const size = LABEL_PX + cell * T;
  // Label every k-th token so labels never overlap (one character needs about 8 px).
  const every = Math.max(1, Math.ceil(9 / cell));
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, size, size);
    const at = (p.layer * p.heads + p.head) * T * T;
    for (let i = 0; i < T; i++) {
      for (let j = 0; j <= i; j++) {
        const w = p.weights[at + i * T + j];
        ctx.fillStyle = `rgba(37, 99, 235, ${Math.min(1, w).toFixed(3)})`;
        ctx.fillRect(LABEL_PX + j * cell, LABEL_PX + i * cell, cell, cell);
      }
    }
    ctx.strokeStyle = '#e5e7eb';
    ctx.strokeRect(LABEL_PX, LABEL_PX, cell * T, cell * T);
    ctx.fillStyle = '#374151';
    ctx.font = `${Math.min(12, Math.max(9, cell))}px monospace`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let k = 0; k < T; k += every) {
      const c = LABEL_PX + k * cell + cell / 2;
      ctx.fillText(label(p.tokens[k]), c, LABEL_PX / 2); // keys along the top
      ctx.fillText(label(p.tokens[k]), LABEL_PX / 2, c); // queries down the side
    }
  }, [p.weights, p.layer, p.head, p.heads, T, cell, size, every, p.tokens]);
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      className="attention-map"
      data-testid="attention-map"
      data-layer={p.layer + 1}
      data-head={p.head + 1}
      data-tokens={T}
      role="img"
      aria-label={`attention, layer ${p.layer + 1}, head ${p.head + 1}, ${T} tokens`}
    />
  );
}
