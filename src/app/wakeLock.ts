/**
 * Keeps the screen on while a run trains (a class watches the curve; a laptop that dims or sleeps stops the
 * tab's timers): a screen wake lock held while the run's status is 'running', released on pause, stop, the
 * end of the run or an error. The browser drops the lock when the tab is hidden; it is asked for again when the
 * tab comes back while training. Browsers without the Wake Lock API (or that refuse it) simply train as before.
 */
import { store } from '../store/store';

export interface WakeLockSentinelLike {
  release(): Promise<void>;
  readonly released?: boolean;
}

export interface WakeLockApi {
  request(type: 'screen'): Promise<WakeLockSentinelLike>;
}

export interface WakeLock {
  /** Want the lock (a run is training) or not; idempotent. */
  update(want: boolean): Promise<void>;
  /** The tab became visible again: ask again if wanted and the browser dropped the lock. */
  revisit(): Promise<void>;
  /** Whether a lock is held now. */
  held(): boolean;
}

/** The acquire/release logic around any Wake Lock API (the browser's, or a test's fake); `api` undefined: a no-op. */
export function createWakeLock(api: WakeLockApi | undefined): WakeLock {
  let want = false;
  let sentinel: WakeLockSentinelLike | null = null;
  let pending: Promise<void> | null = null;
  const acquire = async () => {
    if (!api || sentinel || pending) return pending ?? undefined;
    pending = (async () => {
      try {
        const s = await api.request('screen');
        // Released while the request was in flight (the run paused at once): let go now.
        if (!want) await s.release().catch(() => undefined);
        else sentinel = s;
      } catch {
        // Refused (hidden tab, a policy, low battery): train without it.
      } finally {
        pending = null;
      }
    })();
    return pending;
  };
  const release = async () => {
    await pending;
    const s = sentinel;
    sentinel = null;
    if (s && !s.released) await s.release().catch(() => undefined);
  };
  return {
    async update(next) {
      want = next;
      if (want) await acquire();
      else await release();
    },
    async revisit() {
      if (sentinel?.released) sentinel = null;
      if (want) await acquire();
    },
    held: () => sentinel !== null && !sentinel.released,
  };
}

/** The page's wake lock, following the run's status from the store; call once at start-up. */
export function keepAwakeWhileTraining(): WakeLock {
  const api = typeof navigator !== 'undefined' ? (navigator as { wakeLock?: WakeLockApi }).wakeLock : undefined;
  const lock = createWakeLock(api);
  const training = () => store.getState().run.status === 'running';
  store.subscribe((s, prev) => {
    if (s.run.status !== prev.run.status) void lock.update(training());
  });
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void lock.revisit();
    });
  }
  void lock.update(training());
  return lock;
}
