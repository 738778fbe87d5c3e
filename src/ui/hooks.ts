import { useCallback, useEffect, useMemo, useState } from 'react';
import { store, useStore, type Marker, type RunRecord } from '../store/store';
import type { Lang } from '../store/lang';
import { render, translate, type Key, type Text } from '../i18n/i18n';

export { formatDuration } from '../util/format';

/** The translate function for the current language. */
export function useT(): (key: Key, params?: Record<string, string | number>) => string {
  const lang = useStore((s) => s.lang);
  return useCallback((key, params) => translate(lang, key, params), [lang]);
}

/** Text from the state (a Message or a literal string) in the current language. */
export function useText(): (text: Text) => string {
  const lang = useStore((s) => s.lang);
  return useCallback((text) => render(lang, text), [lang]);
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en');
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
 * All runs, for what draws them (charts, tables, the sample strip). The component re-renders only when
 * this hook hands out a new value — at most once a second while training, at once otherwise and when a run ends —
 * not on every metrics message: recharts needs tens of milliseconds per redraw on a slow CPU, and the page's main thread
 * stays free for the person using it.
 */
/** A run as drawn: its name and marker labels in the current language. */
export type ShownRun = Omit<RunRecord, 'name' | 'markers'> & { name: string; markers: (Omit<Marker, 'label'> & { label: string })[] };

export function shownRuns(runs: RunRecord[], lang: Lang): ShownRun[] {
  return runs.map((r) => ({ ...r, name: render(lang, r.name), markers: r.markers.map((m) => ({ ...m, label: render(lang, m.label) })) }));
}

export function useRunsForDisplay(): ShownRun[] {
  const runs = useThrottledRuns();
  const lang = useStore((s) => s.lang);
  return useMemo(() => shownRuns(runs, lang), [runs, lang]);
}

function useThrottledRuns(): RunRecord[] {
  const [runs, setRuns] = useState(() => store.getState().runs);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const flush = () => {
      timer = null;
      last = Date.now();
      setRuns(store.getState().runs);
    };
    const unsubscribe = store.subscribe((s, prev) => {
      // A run that ends is drawn whole at once, not up to a second later (its last steps and evaluation).
      const ended = prev.run.status === 'running' && s.run.status !== 'running';
      if (s.runs === prev.runs && !ended) return;
      const interval = s.run.status === 'running' ? 1000 : 0;
      if (timer) {
        if (interval > 0) return;
        clearTimeout(timer);
      }
      timer = setTimeout(flush, Math.max(0, last + interval - Date.now()));
    });
    // Runs that changed between the render and this subscription: picked up at once (a task later, not in the effect).
    timer = setTimeout(flush, 0);
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, []);
  return runs;
}
