/**
 * What the worker's events do to the state: a pure reducer, `applyEvent(state, event)`, that returns the new
 * state and the side effects to run (unit-tested like a reducer), and the dispatcher that applies it.
 */
import { type AppState, type Marker, type RunRecord } from '../store/store';
import { errorText, msg, type Message } from '../i18n/i18n';
import type { Event } from '../worker/protocol';

/** Work an event asks for beyond the state change: done by the dispatcher, not the reducer. */
export type Effect =
  | { kind: 'save' } // autosave the session now (a run ended)
  | { kind: 'persist'; bytes: Uint8Array; step: number } // store a session the worker saved mid-run
  | { kind: 'startNextQueued' } // the next compared strategy
  | { kind: 'prescore' }; // score the model a fine-tune would start from, while the worker is idle

export interface Applied {
  state: AppState;
  effects: Effect[];
}

const none = (state: AppState): Applied => ({ state, effects: [] });

function updateRun(state: AppState, runId: string, f: (r: RunRecord) => Partial<RunRecord>): RunRecord[] {
  return state.runs.map((r) => (r.runId === runId ? { ...r, ...f(r) } : r));
}

/**
 * The label marking where a fine-tune starts on the loss chart (placed at its first point): "from the snapshot"
 * where it starts over from the pretrained snapshot after another fine-tune (the step axis goes on, the weights do
 * not: its loss jumps back up there); "fine-tuning starts" where it follows this session's pretraining; else none.
 */
function fineTuneMarker(fromSnapshot: boolean, prior: RunRecord[]): Message | null {
  if (fromSnapshot && prior.some((x) => x.phase === 'finetune')) return msg('chart.fromSnapshot');
  if (prior.some((x) => x.phase === 'pretrain')) return msg('chart.finetuneStarts');
  return null;
}

export function applyEvent(state: AppState, e: Event): Applied {
  switch (e.type) {
    case 'ready':
      return none({ ...state, backend: { ...state.backend, report: e.backend, status: 'ready', crash: null } });
    case 'modelInfo':
      return none({ ...state, model: { ...state.model, info: e.info } });
    case 'corpusInfo':
      return none({ ...state, data: { ...state.data, info: e.info, error: null } });
    case 'tokenizerProgress':
      return none({ ...state, tokenizer: { ...state.tokenizer, progress: e.progress } });
    case 'tokenizerInfo':
      return none({ ...state, tokenizer: { ...state.tokenizer, info: e.info } });
    case 'pairsInfo':
      return none({ ...state, pairs: { ...state.pairs, info: e.info, error: null } });
    case 'runStarted': {
      const r = state.runs.find((x) => x.runId === e.runId);
      const prior = state.runs.filter((x) => x.runId !== e.runId && !x.compare);
      const label = e.startStep === 0 && e.phase === 'finetune' && !r?.compare ? fineTuneMarker(Boolean(r?.request?.fromSnapshot), prior) : null;
      const marker: Marker[] = label ? [{ globalStep: -1, step: 0, label, kind: 'phase' }] : [];
      return none({
        ...state,
        runs: updateRun(state, e.runId, (x) => ({
          status: 'running',
          trainableParams: e.trainableParams,
          markers: [...x.markers, ...marker],
          // The corpus's characters per token under this model's tokenizer: its curves in bits per character.
          charsPerToken: x.charsPerToken ?? (e.phase === 'pretrain' ? state.tokenizer.info?.charsPerToken : undefined),
        })),
        run: { ...state.run, runId: e.runId, phase: e.phase, status: 'running', steps: e.steps, startStep: e.startStep, step: e.startStep },
      });
    }
    case 'metrics': {
      const last = e.points[e.points.length - 1];
      return none({
        ...state,
        runs: updateRun(state, e.runId, (r) => {
          // New arrays, never a push into the previous state's: a copy of even a long run's few thousand points,
          // a few times a second, costs microseconds, and a reducer that mutates its input cannot be undone or compared.
          const points = e.points.map((p) => ({
            globalStep: p.globalStep,
            step: p.step,
            loss: p.loss,
            lr: p.lr,
            tokensPerSec: p.tokensPerSec,
            gradNorm: p.gradNorm,
          }));
          return {
            points: [...r.points, ...points],
            diagnostics: e.diagnostics ? [...(r.diagnostics ?? []), e.diagnostics] : r.diagnostics,
            updateNorms: last.updateNorms,
            stepsDone: last.step + 1,
            markers: r.markers.some((m) => m.globalStep === -1)
              ? r.markers.map((m) => (m.globalStep === -1 ? { ...m, globalStep: e.points[0].globalStep } : m))
              : r.markers,
          };
        }),
        run: { ...state.run, step: last.step + 1, tokensPerSec: last.tokensPerSec, msPerStep: last.msPerStep },
      });
    }
    case 'eval':
      return none({
        ...state,
        runs: updateRun(state, e.runId, (r) => ({ evals: [...r.evals, { globalStep: e.globalStep, step: e.step, losses: e.losses, accuracy: e.accuracy }] })),
      });
    case 'freeze': {
      const groups = Object.keys(e.trainable).length;
      return none({
        ...state,
        runs: updateRun(state, e.runId, (r) => ({
          trainable: e.trainable,
          trainableParams: e.trainableParams,
          markers:
            r.phase === 'finetune' && e.step > 0
              ? [...r.markers, { globalStep: e.globalStep, step: e.step, label: msg('chart.unfreeze', { groups }), kind: 'unfreeze' }]
              : r.markers,
        })),
      });
    }
    case 'breakpoint': {
      const label = e.reason === 'step' ? msg('chart.breakAt', { step: e.step }) : msg('chart.earlyStop', { evals: e.evals ?? 0 });
      return none({
        ...state,
        runs: updateRun(state, e.runId, (r) => ({ markers: [...r.markers, { globalStep: e.globalStep, step: e.step, label, kind: 'breakpoint' }] })),
      });
    }
    case 'sampleStrip':
      return none({ ...state, runs: updateRun(state, e.runId, (r) => ({ samples: [...r.samples, { step: e.step, text: e.text }] })) });
    case 'scoring':
      return none({ ...state, runs: updateRun(state, e.runId, () => ({ scoring: e.answers })) });
    case 'prescored':
      return none(state); // the worker's own bookkeeping: the next fine-tune's "scoring N answers" says what is left
    case 'dialogueScore':
      return none({ ...state, runs: updateRun(state, e.runId, () => ({ scoring: 0, score: { model: e.model, snapshot: e.snapshot } })) });
    case 'runEnded': {
      // scoring: 0 — a run that failed while its answers were scored must not show "scoring…" for ever.
      const runs = updateRun(state, e.runId, (r) => ({
        status: e.status,
        stepsDone: e.stepsDone,
        wallMs: r.wallMs + e.wallMs,
        msPerStep: e.msPerStep || r.msPerStep,
        scoring: 0,
      }));
      const status = e.status === 'paused' ? 'paused' : e.status === 'error' ? 'error' : 'idle';
      const error = e.error ? errorText(e.error) : null;
      const next: AppState = {
        ...state,
        runs,
        run: { ...state.run, status, pending: null, step: e.stepsDone, error, queue: e.status === 'error' ? [] : state.run.queue },
      };
      if (e.status === 'error') return { state: { ...next, notice: { kind: 'error', text: msg('run.failed', { message: error ?? '' }) } }, effects: [] };
      if (e.status !== 'done') return { state: next, effects: [{ kind: 'save' }] };
      // Pretrained: the fine-tune that usually follows compares against this model; score it while nothing runs.
      const pretrained = state.runs.find((r) => r.runId === e.runId)?.phase === 'pretrain' && state.run.queue.length === 0;
      return { state: next, effects: [{ kind: 'save' }, { kind: 'startNextQueued' }, ...(pretrained ? [{ kind: 'prescore' } as const] : [])] };
    }
    case 'error':
      if (e.error.name === 'DeviceLost') return none({ ...state, backend: { ...state.backend, status: 'crashed', crash: errorText(e.error) } });
      return none({ ...state, notice: { kind: 'error', text: errorText(e.error) } });
    case 'autosave':
      return { state, effects: [{ kind: 'persist', bytes: new Uint8Array(e.bytes), step: e.step }] };
    case 'token':
    case 'attentionMaps':
    case 'sampleDone':
    case 'file':
    case 'done':
      return none(state);
    default: {
      const never: never = e;
      return never;
    }
  }
}
