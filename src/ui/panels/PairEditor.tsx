import { useStore } from '../../store/store';
import { setPairList } from '../../app/controller';
import { download, useT } from '../hooks';

/** Add, edit, delete and export the fine-tuning pairs. Edits apply to the worker when you leave a field. */
export function PairEditor() {
  const t = useT();
  const list = useStore((s) => s.pairs.list);
  const source = useStore((s) => s.pairs.source);
  const commit = (next: typeof list) => setPairList(next, source === null || source.startsWith('upload:') || source === 'editor' ? 'editor' : `${source} (edited)`);
  const edit = (i: number, field: 'prompt' | 'response', value: string) => {
    const next = list.map((p, k) => (k === i ? { ...p, [field]: value } : p));
    commit(next);
  };
  return (
    <details>
      <summary>
        {t('ft.editor')} ({list.length})
      </summary>
      <div className="row">
        <button type="button" data-testid="add-pair" onClick={() => commit([...list, { prompt: '', response: '' }].filter((p, i, a) => i === a.length - 1 || p.response.trim()))}>
          {t('ft.addPair')}
        </button>
        <button type="button" disabled={!list.length} onClick={() => download('pairs.jsonl', list.map((p) => JSON.stringify(p)).join('\n') + '\n', 'application/jsonl')}>
          {t('ft.exportPairs')}
        </button>
      </div>
      <div className="pair-table">
        <table>
          <thead>
            <tr>
              <th>{t('ft.promptCol')}</th>
              <th>{t('ft.responseCol')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.slice(0, 200).map((p, i) => (
              <tr key={i}>
                <td>
                  <input aria-label={`${t('ft.promptCol')} ${i + 1}`} defaultValue={p.prompt} onBlur={(e) => e.target.value !== p.prompt && edit(i, 'prompt', e.target.value)} />
                </td>
                <td>
                  <input aria-label={`${t('ft.responseCol')} ${i + 1}`} defaultValue={p.response} onBlur={(e) => e.target.value !== p.response && edit(i, 'response', e.target.value)} />
                </td>
                <td>
                  <button type="button" onClick={() => commit(list.filter((_, k) => k !== i))}>
                    {t('ft.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
