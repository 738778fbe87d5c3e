/** What a training run needs from the worker session around it, and the handle Pause and Stop act on. */
import type { WorkerData } from '../data';
import type { ModelOwner } from '../owner';
import type { PostEvent } from '../protocol';

export interface RunContext {
  owner: ModelOwner;
  data: WorkerData;
  post: PostEvent;
  /** GPU backends compile kernels per shape: sample with one fixed input shape there. */
  fixedShape(): boolean;
}

/** A run in progress: Pause and Stop abort it between steps. */
export interface ActiveRun {
  ctl: AbortController;
  /** Why it was aborted: pause keeps the run resumable. */
  reason: 'pause' | 'stop' | null;
  /**
   * While a fine-tune's answers are scored (after its last step, or after a Stop during its steps): Stop aborts
   * this too, and the run ends at once without a score (scoring can take a minute on a slow device).
   */
  scoring?: AbortController;
}
