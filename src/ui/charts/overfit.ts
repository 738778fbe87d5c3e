/**
 * Overfitting made visible: stretches of a run where, from one evaluation to the next, the held-out loss
 * rises while the training loss falls. Pure, for the chart's shading and its one-line note.
 */
export interface EvalLike {
  globalStep: number;
  losses: Record<string, number>;
}

export interface Region {
  from: number;
  to: number;
}

/** Regions [from, to] in global steps; consecutive overfitting intervals merge into one. */
export function overfitRegions(evals: EvalLike[], train: string, val: string): Region[] {
  const pts = evals.filter((e) => Number.isFinite(e.losses[train]) && Number.isFinite(e.losses[val]));
  const out: Region[] = [];
  for (let i = 1; i < pts.length; i++) {
    const [a, b] = [pts[i - 1], pts[i]];
    const overfitting = b.losses[val] > a.losses[val] && b.losses[train] < a.losses[train];
    if (!overfitting) continue;
    const last = out[out.length - 1];
    if (last && last.to === a.globalStep) last.to = b.globalStep;
    else out.push({ from: a.globalStep, to: b.globalStep });
  }
  return out;
}
