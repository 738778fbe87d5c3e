import { useStore, set } from '../../store/store';
import { ARCH_LIMITS, PRESETS, PRESET_NAMES, countParams, headsDividing, presetOf, isDropout, type ArchConfig } from '../../engine/model/config';
import { createModel, pretrainFromScratch, startFromStarter } from '../../app/controller';
import { SCRATCH_RECIPES } from '../../engine/train/lesson';
import { memoryEstimate, LARGE_CHAR_VOCAB } from '../../engine/model/memory';
import { memoryRefusal, nextVocab } from '../../app/memory';
import { NumberField, SelectField, Tip } from '../Field';
import { formatNumber, useT, useText } from '../hooks';
import { TokenizerChoice, TokenizerView, vocabProblem } from './TokenizerView';

type T = ReturnType<typeof useT>;

/** The model's last phase in words (the worker's names are code). */
const PHASE_WORDS = { init: 'model.phaseInit', pretrain: 'model.phasePretrain', finetune: 'model.phaseFinetune' } as const;

/** Field errors for an architecture, by field: the engine's own limits (validateConfig), explained. */
export function archErrors(a: ArchConfig, t: T): Partial<Record<keyof ArchConfig, string>> {
  const e: Partial<Record<keyof ArchConfig, string>> = {};
  for (const k of ['nLayer', 'nHead', 'nEmbd', 'blockSize'] as const) {
    const { min, max } = ARCH_LIMITS[k];
    if (!Number.isInteger(a[k]) || a[k] < min || a[k] > max) e[k] = t('model.invalidInt', { min, max });
  }
  if (!isDropout(a.dropout)) e.dropout = t('model.invalidDropout');
  if (!e.nHead && !e.nEmbd && a.nEmbd % a.nHead !== 0) {
    e.nHead = t('model.invalidHeads', { width: a.nEmbd, heads: a.nHead, options: headsDividing(a.nEmbd).join(', ') });
  }
  return e;
}

const mb = (b: number) => (b / 1048576).toFixed(b < 10 * 1048576 ? 1 : 0);

export function ModelPanel() {
  const t = useT();
  const preset = useStore((s) => s.model.preset);
  const arch = useStore((s) => s.model.arch);
  const seed = useStore((s) => s.model.seed);
  const info = useStore((s) => s.model.info);
  const hasData = useStore((s) => s.data.source !== null);
  const running = useStore((s) => s.run.status === 'running');
  const batch = useStore((s) => s.pretrain.batchSize);
  const lang = useStore((s) => s.lang);
  const starters = useStore((s) => s.starters);
  const manifest = useStore((s) => s.manifest);
  // Steps trained, counted live during a run (the worker's figure arrives at its start and end).
  const liveSteps = useStore((s) => (s.model.info ? s.model.info.step + (s.run.status === 'running' ? s.run.step - s.run.startStep : 0) : 0));
  const tok = useStore((s) => s.tokenizer);
  const training = tok.progress !== null;
  const errors = archErrors(arch, t);
  const valid = Object.keys(errors).length === 0 && (tok.kind === 'char' || vocabProblem(tok.vocabSize) === null);
  const vocab = useStore(nextVocab);
  const params = valid ? countParams({ ...arch, vocabSize: vocab }) : 0;
  const mem = valid ? memoryEstimate({ ...arch, vocabSize: vocab }, batch) : null;
  // Refused here, before any work: the estimate against what the backend can hold, with the setting to lower.
  const backendName = useStore((s) => s.backend.report?.name);
  const maxTensorBytes = useStore((s) => s.backend.report?.maxTensorBytes);
  const tooLarge = valid ? memoryRefusal(backendName && { name: backendName, maxTensorBytes }, { ...arch, vocabSize: vocab }, batch) : null;
  const text = useText();
  const update = (patch: Partial<ArchConfig>) =>
    set((s) => {
      const next = { ...s.model.arch, ...patch };
      return { model: { ...s.model, preset: presetOf(next), arch: next } };
    });

  return (
    <section className="panel" aria-labelledby="model-title">
      <h2 id="model-title">
        {t('model.title')} <Tip>{t('model.tip')}</Tip>
      </h2>
      {starters.length > 0 && (
        <div className="starters" data-testid="starters">
          {[...starters]
            .sort((a, b) => Number(b.language === lang) - Number(a.language === lang))
            .map((st) => (
              <div key={st.id} className="starter">
                <button type="button" className="primary" data-testid={`starter-${st.id}`} disabled={running} onClick={() => void startFromStarter(st.id)}>
                  {t('model.starter')} · {st.title[lang]}
                </button>
                <p className="muted small">
                  {t('model.starterHelp', {
                    title: st.title[lang],
                    corpus: manifest?.datasets.find((d) => d.id === st.corpus)?.title[lang] ?? st.corpus,
                    steps: st.curve[st.curve.length - 1]?.step ?? 0,
                    loss: st.valLoss?.toFixed(3) ?? '?',
                  })}
                </p>
                {SCRATCH_RECIPES[st.corpus] && (
                  <p className="row small">
                    <button type="button" data-testid={`scratch-${st.id}`} disabled={running || training} onClick={() => void pretrainFromScratch(st.corpus)}>
                      {t('model.scratch', { steps: formatNumber(SCRATCH_RECIPES[st.corpus].run.steps), min: SCRATCH_RECIPES[st.corpus].minutes })}
                    </button>
                    {SCRATCH_RECIPES[`${st.corpus}-plain`] && (
                      <button
                        type="button"
                        data-testid={`scratch-plain-${st.id}`}
                        disabled={running || training}
                        onClick={() => void pretrainFromScratch(`${st.corpus}-plain`)}
                      >
                        {t('model.scratchPlain')}
                      </button>
                    )}
                  </p>
                )}
              </div>
            ))}
          <p className="muted small">{t('model.orScratch')}</p>
        </div>
      )}
      <SelectField
        label={t('model.preset')}
        value={preset}
        testId="preset-select"
        options={[
          ...PRESET_NAMES.map((p) => ({ value: p, label: t('model.presetLabel', { name: p, layers: PRESETS[p].nLayer, width: PRESETS[p].nEmbd }) })),
          { value: 'custom' as const, label: t('model.custom') },
        ]}
        onChange={(v) => v !== 'custom' && set((s) => ({ model: { ...s.model, preset: v, arch: { ...PRESETS[v] } } }))}
      />
      <div className="grid2">
        <NumberField
          label={t('model.layers')}
          value={arch.nLayer}
          min={ARCH_LIMITS.nLayer.min}
          max={ARCH_LIMITS.nLayer.max}
          error={errors.nLayer}
          testId="layers-input"
          onChange={(v) => update({ nLayer: v })}
        />
        <NumberField
          label={t('model.heads')}
          value={arch.nHead}
          min={ARCH_LIMITS.nHead.min}
          max={ARCH_LIMITS.nHead.max}
          error={errors.nHead}
          testId="heads-input"
          onChange={(v) => update({ nHead: v })}
        />
        {/* No min attribute on width and context: the browser steps from min, and 1 + 8k would skip every multiple of 8. */}
        <NumberField
          label={t('model.width')}
          value={arch.nEmbd}
          max={ARCH_LIMITS.nEmbd.max}
          step={8}
          error={errors.nEmbd}
          testId="width-input"
          onChange={(v) => update({ nEmbd: v })}
        />
        <NumberField
          label={t('model.context')}
          value={arch.blockSize}
          max={ARCH_LIMITS.blockSize.max}
          step={8}
          error={errors.blockSize}
          testId="context-input"
          onChange={(v) => update({ blockSize: v })}
        />
        <NumberField label={t('model.dropout')} value={arch.dropout} min={0} step={0.05} error={errors.dropout} onChange={(v) => update({ dropout: v })} />
        <NumberField
          label={t('model.seed')}
          value={seed}
          min={0}
          onChange={(v) => set((s) => ({ model: { ...s.model, seed: Number.isInteger(v) ? v : 0 } }))}
        />
      </div>
      <label className="check">
        <input type="checkbox" checked={arch.bias} onChange={(e) => update({ bias: e.target.checked })} /> {t('model.bias')}
      </label>
      <TokenizerChoice disabled={running || training} />
      {mem && (
        <p data-testid="param-count">
          {t('model.params', { n: formatNumber(params) })} ·{' '}
          <span className="muted">
            {t('model.memory', {
              mb: mb(mem.weights + mem.optimizer + mem.activations),
              w: mb(mem.weights),
              o: mb(mem.optimizer),
              a: mb(mem.activations),
              b: batch,
            })}
          </span>
        </p>
      )}
      {tooLarge && (
        <p className="error" role="alert" data-testid="memory-problem">
          {text(tooLarge)}
        </p>
      )}
      {!tooLarge && tok.kind === 'char' && vocab > LARGE_CHAR_VOCAB && (
        <p className="warning" data-testid="vocab-warning">
          {t('model.largeVocab', { n: formatNumber(vocab - 2) })}
        </p>
      )}
      <button
        type="button"
        className="primary"
        data-testid="create-model"
        disabled={!valid || !hasData || running || training || tooLarge !== null}
        onClick={createModel}
      >
        {info ? t('model.recreate') : t('model.create')}
      </button>
      {!hasData && <p className="muted">{t('model.needCorpus')}</p>}
      {info && (
        <p className="muted" data-testid="model-info">
          {t('model.current', {
            layers: info.config.nLayer,
            heads: info.config.nHead,
            width: info.config.nEmbd,
            context: info.config.blockSize,
            vocab: info.vocabSize,
            params: formatNumber(info.params),
            step: liveSteps,
            phase: t(PHASE_WORDS[info.phase]),
          })}
          {info.lora && (
            <span data-testid="model-lora">
              {' '}
              {t('model.lora', {
                rank: info.lora.rank,
                alpha: info.lora.alpha,
                targets: info.lora.targets === 'attn' ? t('ft.loraAttn') : t('ft.loraAttnMlp'),
              })}
            </span>
          )}
        </p>
      )}
      <TokenizerView />
    </section>
  );
}
