/**
 * The backend in the page's words: a short badge ("CPU · WebAssembly · 2 threads") and the worker's reasons,
 * sentence by sentence, translated where the sentence is one of ours (a code with a dictionary entry); a
 * GPU driver's name or a browser's error message stays as it came (a parameter).
 */
import { DICTIONARIES, translate, type Key } from '../i18n/i18n';
import type { Lang } from '../store/lang';
import type { BackendReason, BackendReport } from '../worker/protocol';

/** The badge: what computes (CPU or GPU) and with what; "(software)" for a GPU that is only emulated. */
export function backendBadge(lang: Lang, report: BackendReport): string {
  const software = (report.name === 'webgpu' || report.name === 'webgl') && !report.probes?.[report.name]?.hardware;
  const base =
    report.name === 'webgpu'
      ? translate(lang, 'badge.webgpu')
      : report.name === 'webgl'
        ? translate(lang, 'badge.webgl')
        : report.name === 'wasm'
          ? (report.threads ?? 1) > 1
            ? translate(lang, 'badge.wasmThreads', { n: report.threads ?? 1 })
            : translate(lang, 'badge.wasmOne')
          : translate(lang, 'badge.cpu');
  return software ? `${base} ${translate(lang, 'badge.software')}` : base;
}

/** One reason in the page's language: its code's sentence where the dictionary has one, else the English text. */
export function reasonText(lang: Lang, r: BackendReason): string {
  const key = `backend.${r.code}`;
  return key in DICTIONARIES.en ? translate(lang, key as Key, r.params) : r.text;
}

/** The report's reasons, one sentence each (an older worker's report: its English reason as one). */
export function reasonTexts(lang: Lang, report: BackendReport): string[] {
  return report.reasons?.length ? report.reasons.map((r) => reasonText(lang, r)) : [report.reason];
}
