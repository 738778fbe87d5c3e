import { set, useStore, type TrainSettings } from '../../store/store';
import type { ScheduleKind } from '../../engine/train/schedule';
import { NumberField, SelectField } from '../Field';
import { useT } from '../hooks';
import { allowed, LIMITS, MAX_LR, type Limit, type SettingName } from '../../engine/train/limits';

/** The settings shared by pretraining and fine-tuning runs. */
export function TrainSettingsFields({ slice }: { slice: 'pretrain' | 'finetune' }) {
  const t = useT();
  const v = useStore((s) => s[slice]);
  const running = useStore((s) => s.run.status === 'running');
  const update = (patch: Partial<TrainSettings>) => set((s) => ({ [slice]: { ...s[slice], ...patch } }) as Partial<typeof s>);
  // One validation per setting (engine/train/limits.ts), as the URL and the CLI use.
  const intErr = (x: number, setting: SettingName) =>
    allowed(LIMITS[setting], x) ? null : t('model.invalidInt', { min: (LIMITS[setting] as Limit).min ?? 0, max: LIMITS[setting].max });
  return (
    <div className="grid3">
      <NumberField
        label={t('train.steps')}
        value={v.steps}
        min={1}
        error={intErr(v.steps, 'steps')}
        disabled={running}
        testId={`${slice}-steps`}
        onChange={(x) => update({ steps: x })}
      />
      <NumberField
        label={t('train.batch')}
        value={v.batchSize}
        min={1}
        error={intErr(v.batchSize, 'batch')}
        disabled={running}
        testId={`${slice}-batch`}
        onChange={(x) => update({ batchSize: x })}
      />
      <NumberField
        label={t('train.lr')}
        value={v.lr}
        min={0}
        step={0.0001}
        error={allowed(LIMITS.lr, v.lr) ? null : t('train.invalidLr', { max: MAX_LR })}
        disabled={running}
        testId={`${slice}-lr`}
        onChange={(x) => update({ lr: x })}
      />
      <SelectField<ScheduleKind>
        label={t('train.schedule')}
        value={v.schedule}
        disabled={running}
        options={[
          { value: 'cosine', label: t('train.cosine') },
          { value: 'constant', label: t('train.constant') },
          { value: 'slanted', label: t('train.slanted') },
        ]}
        onChange={(x) => update({ schedule: x })}
      />
      <NumberField
        label={t('train.warmup')}
        value={v.warmupSteps}
        min={0}
        error={intErr(v.warmupSteps, 'warmup')}
        disabled={running || v.schedule === 'slanted'}
        onChange={(x) => update({ warmupSteps: x })}
      />
      <NumberField
        label={t('train.evalEvery')}
        value={v.evalEvery}
        min={0}
        error={intErr(v.evalEvery, 'evalEvery')}
        disabled={running}
        testId={`${slice}-eval-every`}
        onChange={(x) => update({ evalEvery: x })}
      />
      <NumberField
        label={t('train.sampleEvery')}
        value={v.sampleEvery}
        min={0}
        error={intErr(v.sampleEvery, 'sampleEvery')}
        disabled={running}
        testId={`${slice}-sample-every`}
        onChange={(x) => update({ sampleEvery: x })}
      />
      <div className="field span2">
        <label htmlFor={`${slice}-prompt`}>{t('train.samplePrompt')}</label>
        <input id={`${slice}-prompt`} value={v.samplePrompt} disabled={running} onChange={(e) => update({ samplePrompt: e.target.value })} />
      </div>
    </div>
  );
}

export function settingsValid(v: TrainSettings): boolean {
  const ok = (x: number, setting: SettingName) => allowed(LIMITS[setting], x);
  return (
    ok(v.steps, 'steps') &&
    ok(v.batchSize, 'batch') &&
    ok(v.lr, 'lr') &&
    ok(v.warmupSteps, 'warmup') &&
    ok(v.evalEvery, 'evalEvery') &&
    ok(v.sampleEvery, 'sampleEvery')
  );
}
