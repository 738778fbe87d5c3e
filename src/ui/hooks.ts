import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore, type RunRecord } from '../store/store';
import { translate, type Key } from './i18n';

/** The translate function for the current language. */
export function useT(): (key: Key, params?: Record<string, string | number>) => string {
  const lang = useStore((s) => s.lang);
  return useCallback((key, params) => translate(lang, key, params), [lang]);
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en');
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Trigger a download of bytes as a file (no network: an object URL). */
export function download(name: string, bytes: Uint8Array | string, type = 'application/octet-stream'): void {
  const blob = new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The value, updated at most every `ms` milliseconds (trailing): charts re-render a few times a second
 * however fast metrics arrive, so the main thread never spends long on SVG layout.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    const show = () => {
      last.current = Date.now();
      setShown(value);
    };
    if (wait <= 0) {
      show();
      return;
    }
    const id = setTimeout(show, wait);
    return () => clearTimeout(id);
  }, [value, ms]);
  return shown;
}

/** All runs, refreshed at most once a second: what charts, tables and the sample strip draw from. */
export function useRunsForDisplay(): RunRecord[] {
  return useThrottled(useStore((s) => s.runs), 1000);
}
