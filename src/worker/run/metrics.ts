/**
 * A run's step metrics on their way to the page: collected per step and posted as one message at most every
 * quarter second (the charts redraw no faster), and at once before any other message of the run, so the
 * page receives everything in step order.
 */
import type { StepMetrics } from '../../engine/train/trainer';
import type { Diagnostics, PostEvent, StepPoint } from '../protocol';

/** Metrics messages at most this often. */
const POST_EVERY_MS = 250;

export class MetricBatcher {
  private points: StepPoint[] = [];
  /** The diagnostics of the latest read-back (weight norms, device memory), sent with the next batch. */
  private diagnostics: Diagnostics | undefined;
  private lastPost = 0;

  constructor(
    private readonly post: PostEvent,
    private readonly runId: string,
    private readonly everyMs = POST_EVERY_MS,
  ) {}

  /** One step's metrics; posts the batch if the last one went out long enough ago. */
  add(m: StepMetrics): void {
    this.points.push({
      step: m.step,
      globalStep: m.globalStep,
      loss: m.loss,
      lr: m.lr,
      gradNorm: m.gradNorm,
      tokensPerSec: m.tokensPerSec,
      msPerStep: m.msPerStep,
      updateNorms: m.updateNorms,
    });
    this.diagnostics = { globalStep: m.globalStep, weightNorms: m.weightNorms ?? {}, tensors: m.memory.tensors, bytes: m.memory.bytes };
    if (performance.now() - this.lastPost > this.everyMs) this.flush();
  }

  /** Post what is collected (nothing if empty). */
  flush(): void {
    if (this.points.length) this.post({ type: 'metrics', runId: this.runId, points: this.points, diagnostics: this.diagnostics });
    this.points = [];
    this.lastPost = performance.now();
  }
}
