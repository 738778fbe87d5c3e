import { useState, type DragEvent } from 'react';
import { set, useStore } from '../../store/store';
import { exportModel, exportWebModel, importModel, saveNow } from '../../app/controller';
import { download, useT, useText } from '../hooks';

export function SavePanel() {
  const t = useT();
  const text = useText();
  const info = useStore((s) => s.model.info);
  const running = useStore((s) => s.run.status === 'running');
  const every = useStore((s) => s.autosave.every);
  const last = useStore((s) => s.autosave.lastSavedStep);
  const error = useStore((s) => s.autosave.error);
  const [packing, setPacking] = useState(false);
  const stem = `small-gpt-${info?.config.nLayer}L${info?.config.nEmbd}-step${info?.step}`;
  const name = (suffix: string) => `${stem}${suffix}.safetensors`;
  const onFile = async (file: File | undefined) => {
    if (file) await importModel(file.name, await file.arrayBuffer());
  };
  return (
    <section
      className="panel"
      aria-labelledby="save-title"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        void onFile(e.dataTransfer.files[0]);
      }}
    >
      <h2 id="save-title">{t('save.title')}</h2>
      <div className="row">
        <button
          type="button"
          data-testid="export-model"
          disabled={!info}
          onClick={async () => {
            const bytes = await exportModel('model');
            if (bytes) download(name(''), bytes);
          }}
        >
          {info?.lora ? t('save.exportMerged') : t('save.export')}
        </button>
        {info?.lora && (
          <button
            type="button"
            data-testid="export-adapter"
            onClick={async () => {
              const bytes = await exportModel('model', undefined, true);
              if (bytes) download(name('-lora'), bytes);
            }}
          >
            {t('save.exportAdapter')}
          </button>
        )}
        <button
          type="button"
          data-testid="export-web"
          disabled={!info || packing}
          aria-busy={packing}
          onClick={async () => {
            setPacking(true);
            try {
              const bytes = await exportWebModel();
              if (bytes) download(`${stem}-web.zip`, bytes, 'application/zip');
            } finally {
              setPacking(false);
            }
          }}
        >
          {t('save.exportWeb')}
        </button>
        <button
          type="button"
          data-testid="export-snapshot"
          disabled={!info?.hasSnapshot}
          onClick={async () => {
            const bytes = await exportModel('snapshot');
            if (bytes) download(name('-pretrained'), bytes);
          }}
        >
          {t('save.exportSnapshot')}
        </button>
        <label className="button-like">
          {t('save.import')}
          <input
            type="file"
            accept=".safetensors"
            className="visually-hidden"
            data-testid="import-model"
            disabled={running}
            onChange={(e) => void onFile(e.target.files?.[0])}
          />
        </label>
        <span className="muted">{t('save.drop')}</span>
      </div>
      <p className="muted small">{t('save.pytorch')}</p>
      <p className="muted small">{t('save.webHint')}</p>
      <div className="row">
        <label htmlFor="autosave-every">{t('save.autosave')}</label>
        <input
          id="autosave-every"
          type="number"
          min={0}
          className="narrow"
          value={every}
          onChange={(e) => set((s) => ({ autosave: { ...s.autosave, every: Math.max(0, Math.floor(Number(e.target.value) || 0)) } }))}
        />
        <span>{t('save.autosaveSteps')}</span>
        <button type="button" disabled={!info} onClick={() => void saveNow()}>
          {t('save.saveNow')}
        </button>
        {last !== null && (
          <span className="muted" data-testid="autosave-status">
            {t('save.lastSaved', { step: last })}
          </span>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {text(error)}
        </p>
      )}
    </section>
  );
}
