/**
 * A finished fine-tune's weights, kept on the CPU for the last few runs (owner.ts) so any compared run can be
 * exported or chatted with later: for LoRA the merged weights (what "load" and "export" of the run give) and
 * the adapters on their own. The adapters' base is the model's own weights: what they were trained on.
 */
import { readBackWeights } from '../../engine/io/adapter';
import type { RunRequest } from '../protocol';
import type { RunContext } from './context';

/** Keep the run's final weights (a sync point: every weight is read back). */
export async function keepRunWeights(ctx: RunContext, r: RunRequest, stepsInRun: number): Promise<void> {
  const { owner } = ctx;
  const { merged, adapters } = await readBackWeights(owner.require().model);
  owner.keepRun(r.runId, merged, adapters, { ...owner.training, freezePlan: r.freeze, discriminative: r.discriminative, stepsInRun });
}
