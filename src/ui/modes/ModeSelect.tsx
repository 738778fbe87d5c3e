import { useStore, type ViewMode } from '../../store/store';
import { useT } from '../hooks';
import { setMode } from './view';

/** The header's choice of view: lesson, lab (every setting) or presentation. */
export function ModeSelect() {
  const t = useT();
  const mode = useStore((s) => s.view.mode);
  return (
    <label>
      {t('mode.label')}{' '}
      <select value={mode} data-testid="mode-select" onChange={(e) => setMode(e.target.value as ViewMode)}>
        <option value="lesson">{t('mode.lesson')}</option>
        <option value="lab">{t('mode.lab')}</option>
        <option value="present">{t('mode.present')}</option>
      </select>
    </label>
  );
}
