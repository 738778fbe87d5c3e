import { useState } from 'react';
import { useStore } from '../../store/store';
import { setPairList } from '../../app/controller';
import { download, formatNumber, useT } from '../hooks';
import { PAIR_PAGE, pairPage } from '../pairPage';

/**
 * Add, find, edit, delete and export the fine-tuning pairs. Edits apply to the worker when you leave a field.
 * Paged (PAIR_PAGE rows in the page whatever the set's size) with a filter, so a 5,000-pair upload edits as a small one does.
 */
export function PairEditor() {
  const t = useT();
  const list = useStore((s) => s.pairs.list);
  const source = useStore((s) => s.pairs.source);
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  const commit = (next: typeof list) =>
    setPairList(next, source === null || source.startsWith('upload:') || source === 'editor' ? 'editor' : `${source} (edited)`);
  const edit = (i: number, field: 'prompt' | 'response', value: string) => {
    const next = list.map((p, k) => (k === i ? { ...p, [field]: value } : p));
    commit(next);
  };
  const view = pairPage(list, filter, page);
  const from = view.matches ? view.page * PAIR_PAGE + 1 : 0;
  const to = Math.min(view.matches, (view.page + 1) * PAIR_PAGE);
  return (
    <details data-testid="pair-editor">
      <summary>
        {t('ft.editor')} ({formatNumber(list.length)})
      </summary>
      <div className="row">
        <button
          type="button"
          data-testid="add-pair"
          onClick={() => {
            const next = [...list, { prompt: '', response: '' }].filter((p, i, a) => i === a.length - 1 || p.response.trim());
            commit(next);
            // Show the new, empty pair: the last page, unfiltered.
            setFilter('');
            setPage(Math.ceil(next.length / PAIR_PAGE) - 1);
          }}
        >
          {t('ft.addPair')}
        </button>
        <button
          type="button"
          disabled={!list.length}
          onClick={() => download('pairs.jsonl', list.map((p) => JSON.stringify(p)).join('\n') + '\n', 'application/jsonl')}
        >
          {t('ft.exportPairs')}
        </button>
        <label className="pair-filter">
          {t('pairs.filter')}{' '}
          <input
            type="search"
            value={filter}
            placeholder={t('pairs.filterPlaceholder')}
            data-testid="pair-filter"
            onChange={(e) => {
              setFilter(e.target.value);
              setPage(0);
            }}
          />
        </label>
      </div>
      {filter.trim() && (
        <p className="small muted" data-testid="pair-matches">
          {view.matches ? t('pairs.matching', { n: formatNumber(view.matches), total: formatNumber(list.length) }) : t('pairs.noMatch')}
        </p>
      )}
      <div className="pair-table">
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>{t('ft.promptCol')}</th>
              <th>{t('ft.responseCol')}</th>
              <th>
                <span className="visually-hidden">{t('ft.remove')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map(({ pair: p, index: i }) => (
              // Keyed by index and content: after a removal the inputs below show their new pairs, not stale text.
              <tr key={`${i}\u0000${p.prompt}\u0000${p.response}`} data-testid="pair-row">
                <td className="muted small">{i + 1}</td>
                {/* data-label: on a phone the header is hidden and each cell names its column (styles.css, .pair-table) */}
                <td data-label={t('ft.promptCol')}>
                  <input
                    aria-label={`${t('ft.promptCol')} ${i + 1}`}
                    defaultValue={p.prompt}
                    onBlur={(e) => e.target.value !== p.prompt && edit(i, 'prompt', e.target.value)}
                  />
                </td>
                <td data-label={t('ft.responseCol')}>
                  <input
                    aria-label={`${t('ft.responseCol')} ${i + 1}`}
                    defaultValue={p.response}
                    onBlur={(e) => e.target.value !== p.response && edit(i, 'response', e.target.value)}
                  />
                </td>
                <td>
                  <button type="button" aria-label={`${t('ft.remove')} ${i + 1}`} onClick={() => commit(list.filter((_, k) => k !== i))}>
                    {t('ft.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.pages > 1 && (
        <div className="row">
          <button type="button" data-testid="pairs-prev" disabled={view.page === 0} onClick={() => setPage(view.page - 1)}>
            {t('pairs.prev')}
          </button>
          <span className="small" data-testid="pairs-page" aria-live="polite">
            {t('pairs.page', { from: formatNumber(from), to: formatNumber(to), n: formatNumber(view.matches) })}
          </span>
          <button type="button" data-testid="pairs-next" disabled={view.page >= view.pages - 1} onClick={() => setPage(view.page + 1)}>
            {t('pairs.next')}
          </button>
        </div>
      )}
    </details>
  );
}
