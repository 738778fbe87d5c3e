import type { DragEvent } from 'react';
import { loraOf, planProblem, set, useStore, type FreezePreset } from '../../store/store';
import { LORA_MAX_RANK, loraParamCount, validateLora, type LoraTargets } from '../../engine/model/loraConfig';
import { applyLessonFinetune, dropLongPairs, queueComparison, selectPairs, sendPairs, startRun } from '../../app/controller';
import { compareStrategies } from '../../app/compare';
import { groupIds, type GroupId } from '../../engine/model/groups';
import { NumberField, Tip } from '../Field';
import { TrainSettingsFields, settingsValid } from './TrainSettings';
import { RunControls } from './RunControls';
import { PairEditor } from './PairEditor';
import { formatNumber, useT, useText } from '../hooks';

const PRESETS: { value: FreezePreset; key: 'ft.full' | 'ft.embeddings' | 'ft.bottom' | 'ft.top' | 'ft.progressive' | 'ft.stages' | 'ft.custom' | 'ft.lora' }[] =
  [
    { value: 'none', key: 'ft.full' },
    { value: 'embeddings', key: 'ft.embeddings' },
    { value: 'bottom', key: 'ft.bottom' },
    { value: 'top', key: 'ft.top' },
    { value: 'progressive', key: 'ft.progressive' },
    { value: 'stages', key: 'ft.stages' },
    { value: 'custom', key: 'ft.custom' },
    { value: 'lora', key: 'ft.lora' },
  ];

export function FinetunePanel() {
  const t = useT();
  const text = useText();
  const lang = useStore((s) => s.lang);
  const manifest = useStore((s) => s.manifest);
  const source = useStore((s) => s.pairs.source);
  const info = useStore((s) => s.pairs.info);
  const error = useStore((s) => s.pairs.error);
  const problems = useStore((s) => s.pairs.problems);
  const f = useStore((s) => s.finetune);
  const model = useStore((s) => s.model.info);
  const running = useStore((s) => s.run.status === 'running');
  const valid = useStore((s) => settingsValid(s.finetune));
  const pairSets = manifest?.datasets.filter((d) => d.kind === 'pairs') ?? [];
  const L = model?.config.nLayer ?? 1;
  const update = (patch: Partial<typeof f>) => set((s) => ({ finetune: { ...s.finetune, ...patch } }));
  const onFile = async (file: File | undefined) => {
    if (file) await selectPairs(`upload:${file.name}`, await file.text(), file.name);
  };
  const problem = planProblem(f, L);
  const canStart = Boolean(model && info && valid) && problem === null;

  const compare = () => {
    queueComparison(compareStrategies(f, L));
  };

  return (
    <section
      className="panel"
      aria-labelledby="ft-title"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        void onFile(e.dataTransfer.files[0]);
      }}
    >
      <h2 id="ft-title">
        {t('ft.title')} <Tip>{t('ft.tip')}</Tip>
      </h2>
      <div className="field">
        <label htmlFor="pairs-select">{t('ft.pairs')}</label>
        <select
          id="pairs-select"
          data-testid="pairs-select"
          value={source && pairSets.some((d) => d.id === source) ? source : ''}
          onChange={(e) => e.target.value && void selectPairs(e.target.value).then(() => applyLessonFinetune(e.target.value))}
        >
          <option value="">{source && !pairSets.some((d) => d.id === source) ? source.replace(/^upload:/, '') : t('ft.choose')}</option>
          {pairSets.map((d) => (
            <option key={d.id} value={d.id}>
              {d.title[lang]} · {formatNumber(d.pairs ?? 0)}
            </option>
          ))}
        </select>
      </div>
      <label className="button-like">
        {t('ft.upload')}
        <input
          type="file"
          accept=".jsonl,.json,.csv,.tsv,.txt"
          className="visually-hidden"
          data-testid="pairs-upload"
          onChange={(e) => void onFile(e.target.files?.[0])}
        />
      </label>
      {error && (
        <p className="error" role="alert" data-testid="pairs-error">
          {text(error)}
        </p>
      )}
      {problems.map((p, i) => (
        <p className="warn" key={i} data-testid="pairs-problems">
          {text(p)}
        </p>
      ))}
      {info && (
        <div data-testid="pairs-info">
          <p>{t('ft.count', { n: formatNumber(info.pairs), train: formatNumber(info.trainPairs), val: formatNumber(info.valPairs) })}</p>
          {info.truncated > 0 && (
            <p className="warn" data-testid="pairs-truncated">
              {t('ft.truncated', { n: info.truncated })}{' '}
              <button type="button" data-testid="drop-long-pairs" disabled={running} onClick={dropLongPairs}>
                {t('ft.dropLong', { n: info.truncated })}
              </button>
            </p>
          )}
          {info.unknownChars.length > 0 && (
            <p className="warn" data-testid="pairs-unknown">
              {t('ft.unknown', {
                n: formatNumber(info.unknownChars.reduce((a, [, c]) => a + c, 0)),
                chars: info.unknownChars
                  .slice(0, 20)
                  .map(([c]) => c)
                  .join(' '),
              })}
            </p>
          )}
        </div>
      )}
      <PairEditor />
      <p className="small">
        {t('ft.template')} <Tip>{t('ft.templateTip')}</Tip>
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={f.responseOnly}
          disabled={running}
          data-testid="response-only"
          onChange={(e) => {
            update({ responseOnly: e.target.checked });
            if (info) sendPairs();
          }}
        />{' '}
        {t('ft.responseOnly')} <Tip>{t('ft.responseOnlyTip')}</Tip>
      </label>
      <TrainSettingsFields slice="finetune" />
      <div className="grid3">
        <NumberField
          label={t('ft.valShare')}
          value={f.valFraction}
          min={0.05}
          max={0.5}
          step={0.05}
          disabled={running}
          onChange={(v) => {
            update({ valFraction: Math.min(0.5, Math.max(0.05, v || 0.1)) });
            if (info) sendPairs();
          }}
        />
        <NumberField
          label={t('ft.noise')}
          value={f.promptNoise}
          min={0}
          max={0.5}
          step={0.05}
          disabled={running}
          onChange={(v) => update({ promptNoise: Math.min(0.5, Math.max(0, v || 0)) })}
        />
      </div>
      <label className="check">
        <input type="checkbox" checked={f.forgetting} disabled={running} onChange={(e) => update({ forgetting: e.target.checked })} /> {t('ft.forgetting')}
      </label>
      <fieldset disabled={running}>
        <legend>{t('ft.freeze')}</legend>
        <div className="presets" role="radiogroup">
          {PRESETS.map((p) => (
            <label key={p.value} className="check">
              <input
                type="radio"
                name="freeze-preset"
                value={p.value}
                checked={f.preset === p.value}
                data-testid={`freeze-${p.value}`}
                onChange={() => update({ preset: p.value })}
              />{' '}
              {t(p.key)}
            </label>
          ))}
        </div>
        {(f.preset === 'bottom' || f.preset === 'top') && (
          <NumberField
            label={t('ft.k')}
            value={f.k}
            min={f.preset === 'top' ? 1 : 0}
            max={L}
            onChange={(v) => update({ k: Math.max(0, Math.min(L, Math.floor(v || 0))) })}
          />
        )}
        {f.preset === 'progressive' && (
          <NumberField
            label={t('ft.every')}
            value={f.every}
            min={1}
            testId="progressive-every"
            onChange={(v) => update({ every: Math.max(1, Math.floor(v || 1)) })}
          />
        )}
        {f.preset === 'stages' && <StageEditor nLayer={L} />}
        {f.preset === 'lora' && <LoraFields />}
        {problem && (
          <p className="warn" data-testid="plan-problem">
            {text(problem)}
          </p>
        )}
        {f.preset !== 'lora' && (
          <label className="check">
            <input type="checkbox" checked={f.useDiscriminative} onChange={(e) => update({ useDiscriminative: e.target.checked })} /> {t('ft.discriminative')}
          </label>
        )}
        {f.useDiscriminative && f.preset !== 'lora' && (
          <NumberField label={t('ft.factor')} value={f.discriminative} min={1} step={0.1} onChange={(v) => update({ discriminative: Math.max(1, v || 2.6) })} />
        )}
        <div className="field">
          <label htmlFor="strategy-name">{t('ft.name')}</label>
          <input id="strategy-name" value={f.strategyName} onChange={(e) => update({ strategyName: e.target.value })} />
        </div>
      </fieldset>
      {model?.hasSnapshot && <StartFrom />}
      <RunControls phase="finetune" canStart={canStart} onStart={() => startRun('finetune')} />
      <div className="row">
        <button type="button" data-testid="compare-start" disabled={running || !canStart || !model} onClick={compare}>
          {t('ft.compare')}
        </button>
        <span className="muted small">{t('ft.compareHelp')}</span>
      </div>
      {!model && <p className="muted">{t('ft.needModel')}</p>}
    </section>
  );
}

/**
 * Where the next fine-tune starts, once there is a pretrained snapshot: from it, or on from the weights as they are —
 * named by the run that left them (after a comparison, its last strategy: the long one that forgets).
 */
function StartFrom() {
  const t = useT();
  const text = useText();
  const fromSnapshot = useStore((s) => s.finetune.fromSnapshot);
  const running = useStore((s) => s.run.status === 'running');
  // The last run of this session (not a starter's reference curve): its weights are the model's now.
  const last = useStore((s) => s.runs.findLast((r) => !r.reference)?.name);
  return (
    <div className="start-from">
      <label className="check">
        <input
          type="checkbox"
          data-testid="ft-from-snapshot"
          checked={fromSnapshot}
          disabled={running}
          onChange={(e) => set((s) => ({ finetune: { ...s.finetune, fromSnapshot: e.target.checked } }))}
        />{' '}
        {t('ft.fromSnapshot')}
      </label>
      {!fromSnapshot && last !== undefined && (
        <p className="muted small" data-testid="ft-continue-from">
          {t('ft.continueFrom', { name: text(last) })}
        </p>
      )}
    </div>
  );
}

/** LoRA's rank, α and targets, with the adapters' share of the model. */
function LoraFields() {
  const t = useT();
  const f = useStore((s) => s.finetune);
  const model = useStore((s) => s.model.info);
  const update = (patch: Partial<typeof f>) => set((s) => ({ finetune: { ...s.finetune, ...patch } }));
  const lora = loraOf(f)!;
  let count: number | null = null;
  try {
    if (model) count = loraParamCount(model.config, validateLora(lora));
  } catch {
    count = null; // planProblem says what is wrong
  }
  return (
    <div data-testid="lora-fields">
      <div className="grid3">
        <NumberField
          label={t('ft.loraRank')}
          value={f.loraRank}
          min={1}
          max={LORA_MAX_RANK}
          testId="lora-rank"
          onChange={(v) => update({ loraRank: Math.max(1, Math.min(LORA_MAX_RANK, Math.floor(v || 1))) })}
        />
        <NumberField
          label={t('ft.loraAlpha')}
          value={f.loraAlpha}
          min={0.1}
          step={1}
          testId="lora-alpha"
          onChange={(v) => update({ loraAlpha: v > 0 ? v : f.loraAlpha })}
        />
        <div className="field">
          <label htmlFor="lora-targets">{t('ft.loraTargets')}</label>
          <select id="lora-targets" data-testid="lora-targets" value={f.loraTargets} onChange={(e) => update({ loraTargets: e.target.value as LoraTargets })}>
            <option value="attn">{t('ft.loraAttn')}</option>
            <option value="attn,mlp">{t('ft.loraAttnMlp')}</option>
          </select>
        </div>
      </div>
      {model && count !== null && (
        <p className="muted small" data-testid="lora-share">
          {t('ft.loraParams', { n: formatNumber(count), pct: ((100 * count) / model.params).toFixed(1) })}
        </p>
      )}
    </div>
  );
}

function StageEditor({ nLayer }: { nLayer: number }) {
  const t = useT();
  const stages = useStore((s) => s.finetune.stages);
  const groups = groupIds(nLayer);
  const setStages = (next: typeof stages) => set((s) => ({ finetune: { ...s.finetune, stages: next } }));
  const label = (g: GroupId) => (g === 'embeddings' ? 'emb' : g === 'ln_f' ? 'ln_f' : `B${Number(g.slice(6)) + 1}`);
  return (
    <div className="stages" data-testid="stage-editor">
      {stages.map((st, i) => (
        <div className="stage row" key={i}>
          <span>#{i + 1}</span>
          <input
            type="number"
            className="narrow"
            min={1}
            aria-label={t('ft.stageSteps')}
            value={st.steps}
            onChange={(e) => setStages(stages.map((x, k) => (k === i ? { ...x, steps: Math.max(1, Math.floor(Number(e.target.value) || 1)) } : x)))}
          />
          <span>{t('ft.stageSteps')}</span>
          {groups.map((g) => (
            <label key={g} className="check small">
              <input
                type="checkbox"
                checked={st.trainable.includes(g)}
                onChange={(e) =>
                  setStages(
                    stages.map((x, k) => (k === i ? { ...x, trainable: e.target.checked ? [...x.trainable, g] : x.trainable.filter((y) => y !== g) } : x)),
                  )
                }
              />
              {label(g)}
            </label>
          ))}
          <span>{t('ft.stageLr')}</span>
          <input
            type="number"
            className="narrow"
            min={0.01}
            step={0.1}
            aria-label={t('ft.stageLr')}
            value={st.lrScale ?? 1}
            onChange={(e) => setStages(stages.map((x, k) => (k === i ? { ...x, lrScale: Math.max(0.01, Number(e.target.value) || 1) } : x)))}
          />
          <button type="button" onClick={() => setStages(stages.filter((_, k) => k !== i))}>
            {t('ft.remove')}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => setStages([...stages, { steps: 50, trainable: ['ln_f', `block.${nLayer - 1}` as GroupId], lrScale: 1 }])}>
        {t('ft.addStage')}
      </button>
    </div>
  );
}
