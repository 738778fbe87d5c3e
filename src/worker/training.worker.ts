/// <reference lib="webworker" />
/**
 * The training worker: the browser's side of the worker boundary, and nothing more. It chooses the backend
 * (backend.ts), and feeds the page's messages through the pump (session/pump.ts, the exhaustive switch) to the
 * WorkerSession that owns every tensor (session/WorkerSession.ts); the session's events go back as messages,
 * their buffers transferred.
 *
 *   session/   the worker's behaviour, one method per request    run/   a training run
 *   owner.ts   the model and its tensors    data.ts   texts and their encodings
 *   backend.ts, gpuGuard.ts   the device
 */
import { chooseBackend } from './backend';
import { MessagePump } from './session/pump';
import { WorkerSession } from './session/WorkerSession';
import type { Event, Request } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

function post(e: Event, transfer: Transferable[] = []): void {
  self.postMessage(e, transfer);
}

const pump = new MessagePump(new WorkerSession({ post, chooseBackend }), post);

self.onmessage = (e: MessageEvent<Request>) => pump.receive(e.data);
