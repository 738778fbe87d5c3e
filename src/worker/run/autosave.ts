/** An autosave between steps: the whole session (weights, optimizer, snapshot, step), posted as a transferred file. */
import type { RunContext } from './context';

/**
 * Pure: whether an autosave falls due once `done` of a run's `steps` are done — every `every` steps, but not within
 * half a period of the run's end, which autosaves anyway (the page saves when a run ends). So a crash loses at most
 * one and a half periods of steps, and a short run does not write its whole session just before it ends: the lesson's
 * 60-step fine-tune saved at step 50, a quarter of a second of the student's wait with two threads (the session
 * read back and written while the evaluation after it ran), to guard ten steps.
 */
export function autosaveDue(done: number, every: number, steps: number): boolean {
  return every > 0 && done > 0 && done % every === 0 && steps - done >= every / 2;
}

export async function postAutosave(ctx: RunContext, runId: string, step: number): Promise<void> {
  const { owner, post } = ctx;
  owner.training = { ...owner.training, step: owner.require().trainer.globalStep };
  const bytes = await owner.sessionBytes();
  post({ type: 'autosave', runId, step, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
}
