/** An autosave between steps: the whole session (weights, optimizer, snapshot, step), posted as a transferred file. */
import type { RunContext } from './context';

export async function postAutosave(ctx: RunContext, runId: string, step: number): Promise<void> {
  const { owner, post } = ctx;
  owner.training = { ...owner.training, step: owner.require().trainer.globalStep };
  const bytes = await owner.sessionBytes();
  post({ type: 'autosave', runId, step, bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
}
