/**
 * The one handle on the training worker (a class instance, so not in the store) — the only module-level
 * mutable state of the app layer — and the saves in flight that a restart must wait for.
 */
import { get, set } from '../store/store';
import { MessageError, msg } from '../i18n/i18n';
import { WorkerClient } from '../worker/client';
import type { BackendName, Event } from '../worker/protocol';

const handle: { client: WorkerClient | null; saving: Promise<void> | null } = { client: null, saving: null };

/** The running worker; throws when there is none (a control pressed before it started, or after it died). */
export function worker(): WorkerClient {
  if (!handle.client) throw new MessageError(msg('app.noWorker'));
  return handle.client;
}

/** Start (or restart, on another backend) the worker; its events go to `onEvent`. */
export function startWorker(onEvent: (e: Event) => void, backend?: BackendName | null): void {
  handle.client ??= new WorkerClient(onEvent, (message) => {
    set((s) => ({
      backend: { ...s.backend, status: 'crashed', crash: message },
      run: { ...s.run, status: s.run.runId ? 'error' : s.run.status, error: message },
    }));
  });
  set((s) => ({ backend: { ...s.backend, forced: backend ?? null, status: 'starting', crash: null, report: null } }));
  handle.client.start(backend ?? undefined, get().backend.threads ?? undefined);
}

/** A save already under way is joined, not repeated: a caller that restarts the worker can wait for it. */
export function joinSave(save: () => Promise<void>): Promise<void> {
  if (handle.saving) return handle.saving;
  handle.saving = save().finally(() => {
    handle.saving = null;
  });
  return handle.saving;
}
