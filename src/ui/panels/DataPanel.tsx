import { FEW_DISTINCT_CHARS } from '../../engine/data/corpus';
import { useState, type DragEvent } from 'react';
import { useStore } from '../../store/store';
import { selectCorpus, loadUploadedText, loadUploadedFiles } from '../../app/controller';
import { formatNumber, useT, useText } from '../hooks';

export function DataPanel() {
  const t = useT();
  const text = useText();
  const lang = useStore((s) => s.lang);
  const manifest = useStore((s) => s.manifest);
  const source = useStore((s) => s.data.source);
  const info = useStore((s) => s.data.info);
  const preview = useStore((s) => s.data.preview);
  const error = useStore((s) => s.data.error);
  const [paste, setPaste] = useState('');
  const corpora = manifest?.datasets.filter((d) => d.kind === 'corpus') ?? [];
  const entry = corpora.find((d) => d.id === source);

  const files = useStore((s) => s.data.files);
  const onFiles = async (list: FileList | null | undefined) => {
    if (list?.length) await loadUploadedFiles([...list]);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    void onFiles(e.dataTransfer.files);
  };

  return (
    <section className="panel" aria-labelledby="data-title" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <h2 id="data-title">{t('data.title')}</h2>
      <div className="field">
        <label htmlFor="corpus-select">{t('data.corpus')}</label>
        <select
          id="corpus-select"
          data-testid="corpus-select"
          value={source && !source.startsWith('upload:') ? source : ''}
          onChange={(e) => e.target.value && void selectCorpus(e.target.value)}
        >
          <option value="">{source?.startsWith('upload:') ? source.slice(7) : t('data.choose')}</option>
          {corpora.map((d) => (
            <option key={d.id} value={d.id}>
              {d.title[lang]} · {formatNumber(d.chars)}
            </option>
          ))}
        </select>
      </div>
      <div className="row">
        <label className="button-like">
          {t('data.upload')}
          <input
            type="file"
            multiple
            accept=".txt,.md,.markdown,.html,.htm,.pdf,.docx,text/plain,text/markdown,text/html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            data-testid="corpus-upload"
            className="visually-hidden"
            onChange={(e) => void onFiles(e.target.files)}
          />
        </label>
        <span className="muted">{t('data.drop')}</span>
      </div>
      <details>
        <summary>{t('data.paste')}</summary>
        <textarea aria-label={t('data.paste')} rows={4} value={paste} onChange={(e) => setPaste(e.target.value)} />
        <button type="button" disabled={!paste.trim()} onClick={() => void loadUploadedText(t('data.pastedName'), paste)}>
          {t('data.usePaste')}
        </button>
      </details>
      {error && (
        <p className="error" role="alert" data-testid="data-error">
          {text(error)}
        </p>
      )}
      {files.length > 0 && (
        <ul className="small" data-testid="corpus-files">
          {files.map((f, i) => (
            <li key={i} className={f.error ? 'error' : ''}>
              {f.name}: {f.error ? text(f.error) : t('data.fileChars', { chars: formatNumber(f.chars) })}
            </li>
          ))}
        </ul>
      )}
      {info && (
        <div data-testid="corpus-info">
          <p>{t('data.chars', { chars: formatNumber(info.chars), distinct: formatNumber(info.distinct) })}</p>
          <p className="muted">{t('data.tokens', { train: formatNumber(info.trainTokens), val: formatNumber(info.valTokens) })}</p>
          {info.distinct < FEW_DISTINCT_CHARS && (
            <p className="warn" data-testid="few-chars">
              {t('data.fewChars', { distinct: info.distinct })}
            </p>
          )}
          {info.unknownCount > 0 && (
            <p className="warn">
              {t('data.unknown', {
                n: formatNumber(info.unknownCount),
                chars: info.unknownChars
                  .slice(0, 20)
                  .map(([c]) => JSON.stringify(c))
                  .join(' '),
              })}
            </p>
          )}
        </div>
      )}
      {entry && <p className="muted small">{t('data.license', { source: entry.source, license: entry.license })}</p>}
      {preview && (
        <details>
          <summary>{t('data.preview')}</summary>
          <pre className="preview">{preview}</pre>
        </details>
      )}
    </section>
  );
}
