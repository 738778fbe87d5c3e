import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { get, set } from './store/store';
import { readUrl } from './store/url';
import { defaultLang } from './i18n/i18n';
import { loadManifest, loadStarters, selectCorpus, selectPairs, startWorker } from './app/controller';
import { readAutosaveInfo } from './store/persist';
import { claimAutosave } from './app/tabs';
import './ui/styles.css';
import { registerServiceWorker } from './sw/register';
import { keepAwakeWhileTraining } from './app/wakeLock';

async function boot(): Promise<void> {
  registerServiceWorker();
  set({ lang: defaultLang() });
  readUrl();
  document.documentElement.lang = get().lang === 'zh' ? 'zh-CN' : 'en';
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  claimAutosave();
  keepAwakeWhileTraining();
  startWorker(get().backend.forced);
  await Promise.all([loadManifest(), loadStarters()]);
  const { data, pairs, manifest } = get();
  const quick = manifest?.datasets.find((d) => d.kind === 'corpus' && d.quick && d.language === get().lang);
  // The URL's dataset, or the quick corpus of the user's language so a first run needs no choices.
  await selectCorpus(data.source ?? quick?.id ?? 'moby-dick-quick');
  const quickPairs = manifest?.datasets.find((d) => d.kind === 'pairs' && d.quick && d.corpus === get().data.source);
  if (pairs.source || quickPairs) await selectPairs(pairs.source ?? quickPairs!.id);
  const saved = await readAutosaveInfo();
  if (saved) set((s) => ({ autosave: { ...s.autosave, resumable: saved } }));
}

void boot();
