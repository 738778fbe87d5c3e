/**
 * Two tabs of the app share one autosave (IndexedDB is per origin). The first tab holds a Web Lock for as
 * long as it is open and autosaves; a second tab sees the lock taken, does not autosave (so it cannot
 * overwrite the first tab's session) and says so — until the first tab closes, when it takes over.
 */
import { set } from '../store/store';

const LOCK = 'small-gpt-playground-autosave';

interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>;
  request(name: string, callback: (lock: unknown) => Promise<void> | void): Promise<unknown>;
}

/** Held until the tab closes. */
const forever = () => new Promise<void>(() => undefined);

export function claimAutosave(): void {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  // Without Web Locks (very old browsers), autosave as before.
  if (!locks) return;
  void locks.request(LOCK, { ifAvailable: true }, (lock) => {
    if (lock) return forever();
    set((s) => ({ autosave: { ...s.autosave, otherTab: true } }));
    // Wait for the other tab to close, then autosave here.
    void locks.request(LOCK, () => {
      set((s) => ({ autosave: { ...s.autosave, otherTab: false } }));
      return forever();
    });
  });
}
