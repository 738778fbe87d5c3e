import { useStore } from '../../store/store';
import { startRun } from '../../app/controller';
import { TrainSettingsFields, settingsValid } from './TrainSettings';
import { RunControls } from './RunControls';
import { useT } from '../hooks';

export function PretrainPanel() {
  const t = useT();
  const hasModel = useStore((s) => s.model.info !== null);
  const hasData = useStore((s) => s.data.info !== null);
  const valid = useStore((s) => settingsValid(s.pretrain));
  return (
    <section className="panel" aria-labelledby="pretrain-title">
      <h2 id="pretrain-title">{t('train.title')}</h2>
      <TrainSettingsFields slice="pretrain" />
      <RunControls phase="pretrain" canStart={hasModel && hasData && valid} onStart={() => startRun('pretrain')} />
      {!hasModel && <p className="muted">{t('model.none')}</p>}
    </section>
  );
}
