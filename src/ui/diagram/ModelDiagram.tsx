import { useState } from 'react';
import { freezePlanOf, loraOf, planProblem, set, useStore, type FinetuneSettings } from '../../store/store';
import { loraParamCount } from '../../engine/model/loraConfig';
import { groupIds, type GroupId } from '../../engine/model/groups';
import { trainableAt } from '../../engine/train/freeze';
import { formatNumber, useT, useText } from '../hooks';

/**
 * The model as a vertical stack, top to bottom: final LayerNorm, blocks L…1, embeddings. Each group shows
 * whether it learns and the size of its last update; clicking one freezes or unfreezes it (custom plan).
 */
export function ModelDiagram() {
  const t = useT();
  const text = useText();
  const info = useStore((s) => s.model.info);
  const finetune = useStore((s) => s.finetune);
  const run = useStore((s) => (s.run.runId ? (s.runs.find((r) => r.runId === s.run.runId) ?? null) : null));
  const running = useStore((s) => s.run.status === 'running');
  // After a run, its final state stays on show until the fine-tuning settings change (then the plan is previewed).
  // Kept in state from the render where the run was first seen ended (React's "information from previous renders").
  const [endedWith, setEndedWith] = useState<{ runId: string; settings: FinetuneSettings } | null>(null);
  const ended = run !== null && (run.status === 'done' || run.status === 'stopped') && Object.keys(run.trainable).length > 0;
  if (ended && endedWith?.runId !== run.runId) setEndedWith({ runId: run.runId, settings: finetune });
  if (!info) return null;
  const L = info.config.nLayer;
  const showFinal = ended && endedWith?.settings === finetune;
  const live = run !== null && (((run.status === 'running' || run.status === 'paused') && Object.keys(run.trainable).length > 0) || showFinal);
  // A plan that cannot run (no stages yet) previews as all frozen rather than failing to render.
  const preview = () =>
    planProblem(finetune, L) !== null
      ? {}
      : Object.fromEntries(trainableAt(freezePlanOf(finetune, L), 0, L, { discriminative: finetune.useDiscriminative ? finetune.discriminative : undefined }));
  // LoRA: every weight frozen, adapters on the blocks (the run's, or the settings' before a run).
  const lora = live ? run.request?.lora : finetune.preset === 'lora' ? loraOf(finetune) : undefined;
  const loraPerBlock = lora ? loraParamCount(info.config, lora) / L : 0;
  const trainable: Partial<Record<GroupId, number>> = lora ? {} : live ? run.trainable : preview();
  // Live: the last step's update per group (for LoRA, the adapters'); after a LoRA run, ‖(α/r)·B·A‖ per block.
  const norms = live ? run.updateNorms : {};
  const adapterNorm = (g: GroupId): number | undefined => (live && !showFinal ? norms[g] : info.lora?.updateNorms?.[Number(g.slice(6))]);
  const groups = [...groupIds(L)].reverse();
  const total = info.params;
  // wte and wpe sit in 'embeddings'; the tied head is the same tensor, counted once.
  const learning = lora ? loraPerBlock * L : groups.filter((g) => g in trainable).reduce((a, g) => a + info.groupParams[g], 0);
  const label = (g: GroupId) =>
    g === 'embeddings' ? t('diagram.embeddings') : g === 'ln_f' ? t('diagram.lnf') : t('diagram.block', { i: Number(g.slice(6)) + 1 });
  const toggle = (g: GroupId) => {
    if (running) return;
    const frozen = groupIds(L).filter((x) => !(x in trainable));
    const next = frozen.includes(g) ? frozen.filter((x) => x !== g) : [...frozen, g];
    set((s) => ({ finetune: { ...s.finetune, preset: 'custom', frozen: next } }));
  };
  return (
    <section className="panel" aria-labelledby="diagram-title">
      <h2 id="diagram-title">{t('diagram.title')}</h2>
      <p className="muted small" data-testid="diagram-mode" data-mode={showFinal ? 'final' : live ? 'live' : 'plan'}>
        {showFinal ? t('diagram.final', { name: text(run.name) }) : live ? t('diagram.live') : t('diagram.preview')}{' '}
        {t(running ? 'diagram.locked' : 'diagram.click')}
      </p>
      <ol className="diagram" data-testid="diagram">
        {groups.map((g) => {
          const on = g in trainable;
          const norm = lora ? undefined : norms[g];
          const adapted = lora !== undefined && g.startsWith('block.');
          const aNorm = adapted ? adapterNorm(g) : undefined;
          return (
            <li key={g}>
              <button
                type="button"
                className={`group ${on ? 'learning' : 'frozen'}`}
                data-testid={`group-${g}`}
                data-state={on ? 'learning' : 'frozen'}
                aria-pressed={!on}
                disabled={running}
                onClick={() => toggle(g)}
              >
                <span className="group-name">{label(g)}</span>
                <span className="group-state">
                  {on ? t('diagram.trainable') : t('diagram.frozen')}
                  {on && trainable[g] !== undefined && trainable[g] !== 1 ? ` · lr ×${trainable[g]!.toPrecision(2)}` : ''}
                </span>
                <span className="group-params">{formatNumber(info.groupParams[g])}</span>
                {norm !== undefined && (
                  <span className="group-norm" data-testid={`norm-${g}`}>
                    {t('diagram.update', { v: norm === 0 ? '0' : norm.toExponential(1) })}
                  </span>
                )}
                {adapted && (
                  <span className="group-lora" data-testid={`lora-${g}`}>
                    {t('diagram.lora', { r: lora.rank, n: formatNumber(loraPerBlock) })}
                    {aNorm !== undefined && ` · ${t('diagram.loraUpdate', { v: aNorm === 0 ? '0' : aNorm.toExponential(1) })}`}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ol>
      <p data-testid="trainable-share">
        {t('diagram.trainableShare', { n: formatNumber(learning), total: formatNumber(total), pct: ((100 * learning) / total).toFixed(1) })}
      </p>
    </section>
  );
}
