/**
 * The app layer's entry: the actions the UI calls (one module per concern, re-exported here) and the
 * dispatcher that applies worker events — the pure reducer `applyEvent` (events.ts) for the state, then
 * the effects it names.
 *
 *   worker.ts   the worker handle          data.ts    corpora, uploads, pairs
 *   runs.ts     run requests and controls  session.ts autosave, import/export, recovery
 *   model.ts    new model, starters        chat.ts    replies
 */
import { get, set } from '../store/store';
import type { BackendName, Event } from '../worker/protocol';
import { applyEvent, type Effect } from './events';
import { startNextQueued } from './runs';
import { prescore } from './model';
import { persistSession, recover as recoverWith, saveNow } from './session';
import { startWorker as start } from './worker';

export {
  loadManifest,
  loadStarters,
  selectCorpus,
  loadUploadedText,
  loadUploadedFiles,
  selectPairs,
  setPairList,
  sendPairs,
  dropLongPairs,
  applyLessonFinetune,
} from './data';
export { startRun, startLessonFinetune, queueComparison, pauseRun, stopRun, resumeRun, stepOnce, deleteRun, scoringAnswers } from './runs';
export { saveNow, resumeAutosave, discardAutosave, exportModel, exportWebModel, importModel } from './session';
export { cancelTokenizer, createModel, pretrainFromScratch, startFromStarter } from './model';
export { chat, showAttention } from './chat';

function run(effect: Effect): void {
  switch (effect.kind) {
    case 'save':
      void saveNow();
      return;
    case 'persist':
      void persistSession(effect.bytes, effect.step);
      return;
    case 'startNextQueued':
      startNextQueued();
      return;
    case 'prescore':
      prescore();
      return;
    default: {
      const never: never = effect;
      void never;
    }
  }
}

/** Apply a worker event: the new state at once, then its effects. */
export function onEvent(e: Event): void {
  const { state, effects } = applyEvent(get(), e);
  if (state !== get()) set(state, true);
  effects.forEach(run);
}

export function startWorker(backend?: BackendName | null): void {
  start(onEvent, backend);
}

/** Restart the worker on another backend and bring back the last autosave (after a crash or device loss). */
export function recover(backend: BackendName | null): Promise<void> {
  return recoverWith(onEvent, backend);
}
