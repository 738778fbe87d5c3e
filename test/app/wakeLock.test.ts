import { describe, expect, it } from 'vitest';
import { createWakeLock, type WakeLockApi, type WakeLockSentinelLike } from '../../src/app/wakeLock';

/** A fake Wake Lock API: counts requests, holds sentinels, can refuse or answer late. */
function fake({ refuse = false } = {}) {
  const held: { released: boolean }[] = [];
  let requests = 0;
  let gate: (() => void) | null = null;
  const api: WakeLockApi = {
    async request() {
      requests++;
      if (gate === null && late) await new Promise<void>((r) => (gate = r));
      if (refuse) throw new DOMException('not allowed', 'NotAllowedError');
      const s: WakeLockSentinelLike & { released: boolean } = { released: false, release: async () => void (s.released = true) };
      held.push(s);
      return s;
    },
  };
  let late = false;
  return {
    api,
    held,
    requests: () => requests,
    active: () => held.filter((s) => !s.released).length,
    answerLate: () => void (late = true),
    answer: () => gate?.(),
  };
}

describe('the wake lock while training', () => {
  it('is requested when a run starts and released on pause, stop or the end; never twice at once', async () => {
    const f = fake();
    const lock = createWakeLock(f.api);
    await lock.update(true);
    await lock.update(true);
    expect(f.requests()).toBe(1);
    expect(lock.held()).toBe(true);
    await lock.update(false); // paused
    expect(f.active()).toBe(0);
    expect(lock.held()).toBe(false);
    await lock.update(true); // resumed
    expect(f.active()).toBe(1);
    await lock.update(false); // ended
    await lock.update(false);
    expect(f.active()).toBe(0);
    expect(f.requests()).toBe(2);
  });

  it('lets go of a lock that arrives after the run already paused', async () => {
    const f = fake();
    f.answerLate();
    const lock = createWakeLock(f.api);
    const asked = lock.update(true);
    const paused = lock.update(false);
    f.answer();
    await Promise.all([asked, paused]);
    expect(f.requests()).toBe(1);
    expect(f.active()).toBe(0);
    expect(lock.held()).toBe(false);
  });

  it('asks again when the tab comes back while training (the browser dropped it), not when idle', async () => {
    const f = fake();
    const lock = createWakeLock(f.api);
    await lock.update(true);
    f.held[0].released = true; // the tab was hidden
    expect(lock.held()).toBe(false);
    await lock.revisit();
    expect(f.requests()).toBe(2);
    expect(lock.held()).toBe(true);
    await lock.update(false);
    await lock.revisit();
    expect(f.requests()).toBe(2);
  });

  it('trains on without the API, or when the browser refuses', async () => {
    const none = createWakeLock(undefined);
    await none.update(true);
    expect(none.held()).toBe(false);
    await none.update(false);
    const f = fake({ refuse: true });
    const refused = createWakeLock(f.api);
    await expect(refused.update(true)).resolves.toBeUndefined();
    expect(refused.held()).toBe(false);
  });
});
