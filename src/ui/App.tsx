import { useEffect } from 'react';
import { get, set, useStore } from '../store/store';
import { discardAutosave, recover, resumeAutosave } from '../app/controller';
import { encodeState, writeUrl } from '../store/url';
import { BACKENDS, type BackendName } from '../worker/protocol';
import { DataPanel } from './panels/DataPanel';
import { ModelPanel } from './panels/ModelPanel';
import { PretrainPanel } from './panels/PretrainPanel';
import { FinetunePanel } from './panels/FinetunePanel';
import { SavePanel } from './panels/SavePanel';
import { ChatPanel } from './panels/ChatPanel';
import { AttentionPanel } from './panels/AttentionPanel';
import { SampleStrip } from './panels/SampleStrip';
import { RunsTable } from './panels/RunsTable';
import { QuizView } from './panels/QuizView';
import { LessonGuide } from './panels/LessonGuide';
import { LossChart } from './charts/Charts';
import { ModelDiagram } from './diagram/ModelDiagram';
import { useT, useText } from './hooks';
import { msg } from '../i18n/i18n';
import type { Lang } from '../store/lang';
import { BackendBadge } from './BackendBadge';
import { ModeSelect } from './modes/ModeSelect';
import { LessonMode } from './modes/LessonMode';
import { PresentMode } from './modes/PresentMode';
import './class.css';

function Header() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const backend = useStore((s) => s.backend);
  const running = useStore((s) => s.run.status === 'running');
  return (
    <header className="header">
      <div>
        <h1>{t('app.title')}</h1>
        <p className="muted">{t('app.tagline')}</p>
      </div>
      <div className="header-controls">
        <label>
          {t('app.language')}{' '}
          <select
            value={lang}
            data-testid="lang-select"
            onChange={(e) => {
              set({ lang: e.target.value as Lang });
              document.documentElement.lang = e.target.value === 'zh' ? 'zh-CN' : 'en';
              writeUrl();
            }}
          >
            <option value="en">English</option>
            <option value="zh">简体中文</option>
          </select>
        </label>
        <ModeSelect />
        <label>
          {t('app.backend')}{' '}
          <select
            value={backend.forced ?? ''}
            data-testid="backend-select"
            disabled={running}
            onChange={(e) => {
              const b = (e.target.value || null) as BackendName | null;
              void recover(b).then(writeUrl);
            }}
          >
            <option value="">{t('app.backendAuto')}</option>
            {BACKENDS.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <BackendBadge />
        <button
          type="button"
          onClick={() => {
            writeUrl();
            void navigator.clipboard?.writeText(`${location.origin}${location.pathname}?${encodeState(get())}`).catch(() => undefined);
            set({ notice: { kind: 'info', text: msg('app.copied') } });
          }}
        >
          {t('app.share')}
        </button>
      </div>
    </header>
  );
}

/**
 * How long an info notice (a model loaded, a session restored) stays: a toast over the page's foot, it goes by
 * itself once read. An error stays until dismissed.
 */
export const INFO_NOTICE_MS = 15_000;

export function Banners() {
  const t = useT();
  const text = useText();
  const notice = useStore((s) => s.notice);
  useEffect(() => {
    if (notice?.kind !== 'info') return;
    const timer = setTimeout(() => {
      if (get().notice === notice) set({ notice: null });
    }, INFO_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  const crash = useStore((s) => s.backend.crash);
  const resumable = useStore((s) => s.autosave.resumable);
  const otherTab = useStore((s) => s.autosave.otherTab);
  const runError = useStore((s) => s.run.status === 'error');
  const current = useStore((s) => s.backend.report?.name);
  // Only backends this browser has: after an out-of-memory failure on WebAssembly, no "continue on WebGPU" without a GPU.
  const probes = useStore((s) => s.backend.report?.probes);
  return (
    <div className="banners">
      {crash && (
        <div className="banner error" role="alert" data-testid="crash-banner">
          {text(msg('app.crashed', { message: crash }))}{' '}
          {BACKENDS.filter((b) => probes?.[b]?.available !== false).map((b) => (
            <button key={b} type="button" onClick={() => void recover(b)}>
              {t('app.recover')} {b}
            </button>
          ))}
        </div>
      )}
      {runError && !crash && (
        <div className="banner error" data-testid="run-error-banner">
          {BACKENDS.filter((b) => b !== current && probes?.[b]?.available !== false).map((b) => (
            <button key={b} type="button" onClick={() => void recover(b)}>
              {t('app.recover')} {b}
            </button>
          ))}
        </div>
      )}
      {otherTab && (
        <div className="banner info" role="status" data-testid="other-tab-banner">
          {t('autosave.otherTab')}
        </div>
      )}
      {resumable && (
        <div className="banner info" data-testid="resume-banner">
          {t('autosave.offer', { step: resumable.step, when: new Date(resumable.savedAt).toLocaleString() })}{' '}
          <button type="button" className="primary" data-testid="resume-autosave" onClick={() => void resumeAutosave()}>
            {t('autosave.resume')}
          </button>
          <button type="button" onClick={() => void discardAutosave()}>
            {t('autosave.discard')}
          </button>
        </div>
      )}
      {/* A toast at the foot of the window: raised by a control anywhere on a long page (a model file refused in
          Save / load, far below the header), it shows where the student is. */}
      {notice && (
        <div className={`banner toast ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="notice">
          {text(notice.text)}{' '}
          <button type="button" onClick={() => set({ notice: null })}>
            {t('app.dismiss')}
          </button>
        </div>
      )}
    </div>
  );
}

function Credits() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const manifest = useStore((s) => s.manifest);
  const seen = new Set<string>();
  const credits = (manifest?.datasets ?? []).filter((d) => !seen.has(d.attribution.en) && seen.add(d.attribution.en));
  return (
    <footer className="footer">
      <p>{t('app.footer')}</p>
      <details>
        <summary>{t('app.credits')}</summary>
        <ul data-testid="credits">
          {credits.map((d) => (
            <li key={d.id}>
              <strong>{d.title[lang]}</strong>: {d.attribution[lang]} ({d.license}; {d.source})
            </li>
          ))}
        </ul>
      </details>
    </footer>
  );
}

/** The forms, in the order a run is set up: the lab's left column, and the lesson's "All settings". */
function FormsColumn() {
  return (
    <div className="column">
      <LessonGuide />
      <DataPanel />
      <ModelPanel />
      <PretrainPanel />
      <FinetunePanel />
      <SavePanel />
    </div>
  );
}

/** The lab: every panel (the forms in one column, what they show in the other). */
function Lab() {
  return (
    <main className="layout">
      <FormsColumn />
      {/* sticky on wide screens (styles.css): the run's loss and model stay beside the forms that started it */}
      <div className="column view" data-testid="view-column">
        <LossChart />
        <ModelDiagram />
        <RunsTable />
        <QuizView />
        <ChatPanel />
        <AttentionPanel />
        <SampleStrip />
      </div>
    </main>
  );
}

/** Under the lesson's "All settings": the lab's panels the lesson's steps do not show. */
function LessonSettings() {
  return (
    <div className="layout">
      <FormsColumn />
      <div className="column">
        <ChatPanel />
        <AttentionPanel />
        <SampleStrip />
      </div>
    </div>
  );
}

/** Runs that have ended (done, stopped, failed): what a test or a script waits on, rather than on a button. */
const ENDED = new Set(['done', 'stopped', 'error']);

export function App() {
  const mode = useStore((s) => s.view.mode);
  // The app's state for automation: the run's status and how many runs have ended so far.
  const runStatus = useStore((s) => s.run.status);
  const ended = useStore((s) => s.runs.filter((r) => !r.reference && ENDED.has(r.status)).length);
  const state = { 'data-run-status': runStatus, 'data-runs-ended': ended };
  if (mode === 'present') {
    return (
      <div className="app app-present" {...state}>
        <Banners />
        <PresentMode />
      </div>
    );
  }
  return (
    <div className="app" {...state}>
      <Header />
      <Banners />
      {mode === 'lesson' ? <LessonMode settings={<LessonSettings />} /> : <Lab />}
      <Credits />
    </div>
  );
}
