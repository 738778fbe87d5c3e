import { useStore } from '../store/store';
import { backendBadge, reasonTexts } from '../app/backendText';
import { useT } from './hooks';

/**
 * The header's backend: a short badge in the page's language ("CPU · WebAssembly · 1 thread"); the worker's
 * reasons, one sentence each, a click away.
 */
export function BackendBadge() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const report = useStore((s) => s.backend.report);
  return (
    <details className="backend-status" data-testid="backend-status" data-backend={report?.name ?? ''} data-threads={report?.threads ?? ''}>
      <summary title={t('badge.why')} data-testid="backend-badge">
        {report ? backendBadge(lang, report) : t('app.backendStarting')}
      </summary>
      {report && (
        <div className="backend-reasons" data-testid="backend-reasons">
          <strong>{t('badge.why')}</strong>
          <ul>
            {reasonTexts(lang, report).map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </div>
      )}
    </details>
  );
}
