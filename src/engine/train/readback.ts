/**
 * When the training loop reads its steps' statistics back (a sync point). On a GPU a step returns as soon as
 * its work is queued, so the loop runs ahead of the device; a read-back waits for everything queued. Reading
 * back rarely keeps the device's pipeline full; reading back before too much is queued keeps Pause and Stop
 * prompt: they take effect between steps, but the steps already queued run first, and on a slow device
 * (a software adapter, an old integrated GPU: seconds a step) ten queued steps are a long wait.
 */
export interface ReadbackRule {
  /** Read back every N steps. */
  logEvery: number;
  /** Also read back once this many milliseconds have passed since the last read-back... */
  readbackMs?: number;
  /** ...and at least this many steps are pending. */
  readbackMinSteps?: number;
  /**
   * Read back once the pending steps, at the time a step took at the last read-back, add up to this many
   * milliseconds, whatever the rules above say: no more device work than this is ever queued. Before any
   * step is measured, after one step.
   */
  maxQueuedMs?: number;
}

/** How many steps of `msPerStep` fit in `maxQueuedMs` (at least one); one while no step is measured yet. */
export function queuedStepsCap(maxQueuedMs: number, msPerStep: number | undefined): number {
  if (msPerStep === undefined || !(msPerStep > 0)) return 1;
  return Math.max(1, Math.floor(maxQueuedMs / msPerStep));
}

/**
 * Whether to read back now, with `pending` steps not yet read, `sinceMs` since the last read-back, and
 * `msPerStep` measured at the last read-back (undefined before the first).
 */
export function readbackDue(rule: ReadbackRule, pending: number, sinceMs: number, msPerStep: number | undefined): boolean {
  if (pending >= rule.logEvery) return true;
  if (rule.maxQueuedMs !== undefined && pending >= queuedStepsCap(rule.maxQueuedMs, msPerStep)) return true;
  return rule.readbackMs !== undefined && sinceMs >= rule.readbackMs && pending >= (rule.readbackMinSteps ?? 1);
}

/** The page's read-backs: about four times a second (the charts redraw no faster). */
export const READBACK_MS = 250;

/**
 * The page's rule (the worker's runs, and the browser benchmark that measures them): by time, and on a GPU not
 * before 10 steps are pending (each read-back stalls its pipeline) nor after a quarter second of steps is queued.
 */
export function pageReadback(gpu: boolean): ReadbackRule {
  return { logEvery: 1_000_000, readbackMs: READBACK_MS, readbackMinSteps: gpu ? 10 : 1, maxQueuedMs: gpu ? READBACK_MS : undefined };
}
