/**
 * Letting the event loop run between pieces of work. On WebAssembly and the CPU backend a tensor's
 * `data()` resolves at once (a microtask), so an async loop that only awaits read-backs never returns to
 * the event loop: a worker running it cannot receive Pause or Stop until the loop ends. A yield is a
 * macrotask: queued messages are handled before the loop goes on.
 */

const now = () => performance.now();

/** One trip through the event loop (a macrotask, without setTimeout's 4 ms clamp on nested timers). */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof g.MessageChannel === 'function') {
    return new Promise((resolve) => {
      const ch = new g.MessageChannel!();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A yield that costs nothing when called often: it goes through the event loop only when `everyMs` have
 * passed since the last time, so messages wait at most about that long (plus one piece of work).
 */
export function makeYielder(everyMs = 20): () => Promise<void> {
  let last = now();
  return async () => {
    if (now() - last < everyMs) return;
    await yieldToEventLoop();
    last = now();
  };
}
