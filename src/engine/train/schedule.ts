/**
 * Learning-rate schedules: pure functions of the step, as nanoGPT's get_lr.
 */

export type Schedule =
  /** nanoGPT: linear warmup, then cosine decay from lr to minLr over decaySteps, then minLr. */
  | { kind: 'cosine'; lr: number; minLr: number; warmupSteps: number; decaySteps: number }
  | { kind: 'constant'; lr: number; warmupSteps?: number }
  /** ULMFiT (Howard & Ruder 2018): short linear rise over cutFrac of the run, long linear decay; ratio = max/min. */
  | { kind: 'slanted'; lr: number; totalSteps: number; cutFrac: number; ratio: number };

export type ScheduleKind = Schedule['kind'];

/** Learning rate at step `it` (0-based). */
export function lrAt(s: Schedule, it: number): number {
  switch (s.kind) {
    case 'cosine': {
      if (it < s.warmupSteps) return (s.lr * (it + 1)) / (s.warmupSteps + 1);
      if (it > s.decaySteps) return s.minLr;
      const span = Math.max(s.decaySteps - s.warmupSteps, 1);
      const ratio = (it - s.warmupSteps) / span;
      return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.lr - s.minLr);
    }
    case 'constant': {
      const w = s.warmupSteps ?? 0;
      return it < w ? (s.lr * (it + 1)) / (w + 1) : s.lr;
    }
    case 'slanted': {
      const cut = Math.max(1, Math.floor(s.totalSteps * s.cutFrac));
      const p = it < cut ? it / cut : Math.max(0, 1 - (it - cut) / (cut * (1 / s.cutFrac - 1)));
      return (s.lr * (1 + p * (s.ratio - 1))) / s.ratio;
    }
  }
}

/**
 * The schedule a run's settings describe — one formula for the page and the CLI. Cosine decays to a tenth
 * of the peak over the run, warmup capped at half the run; slanted is ULMFiT's 10 % rise with ratio 32.
 */
export function scheduleFor(kind: ScheduleKind, steps: number, lr: number, warmupSteps: number): Schedule {
  switch (kind) {
    case 'cosine':
      return { kind: 'cosine', lr, minLr: lr / 10, warmupSteps: Math.min(warmupSteps, Math.floor(steps / 2)), decaySteps: steps };
    case 'constant':
      return { kind: 'constant', lr, warmupSteps };
    case 'slanted':
      return { kind: 'slanted', lr, totalSteps: steps, cutFrac: 0.1, ratio: 32 };
  }
}

/** nanoGPT shakespeare_char's recipe for a run of `steps` (warmup capped at a tenth of short runs). */
export function defaultCosine(steps: number, lr = 1e-3, minLr = lr / 10, warmupSteps = Math.min(100, Math.floor(steps / 10))): Schedule {
  return { kind: 'cosine', lr, minLr, warmupSteps, decaySteps: steps };
}

export function validateSchedule(s: Schedule): Schedule {
  const bad = (m: string) => {
    throw new Error(`schedule: ${m}`);
  };
  if (!(s.lr > 0 && Number.isFinite(s.lr))) bad(`lr must be a positive number, got ${s.lr}`);
  if (s.kind === 'cosine' && !(s.minLr >= 0 && s.minLr <= s.lr)) bad(`minLr must be in [0, lr], got ${s.minLr}`);
  if (s.kind === 'slanted' && !(s.cutFrac > 0 && s.cutFrac < 1)) bad(`cutFrac must be in (0, 1), got ${s.cutFrac}`);
  if (s.kind === 'slanted' && !(s.ratio >= 1)) bad(`ratio must be ≥ 1, got ${s.ratio}`);
  return s;
}
