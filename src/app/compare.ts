/**
 * Which strategies "Compare strategies" runs: pure functions, unit-tested. A strategy is a name and a patch
 * of the fine-tuning settings, passed to the run as data (the user's own settings are not touched).
 */
import { freezePlanOf, type FinetuneSettings, type Strategy } from '../store/store';
import { planChanges } from '../engine/train/freeze';
import type { LoraConfig } from '../engine/model/loraConfig';
import { msg, type Message } from '../i18n/i18n';
import { planName } from './planName';

export type { Strategy };

/**
 * Up to four strategies that differ on this model: full, bottom half frozen, top block only, progressive
 * unfreezing — and freezing the embeddings where one of those collapses into another; then LoRA. Two plans are the
 * same when they train the same groups at every step (on a 2-layer model, "bottom half frozen" and "top block
 * only" are one plan), so only the first of them is kept. Last a long, strong full fine-tune: the one that forgets.
 */
export function compareStrategies(f: FinetuneSettings, nLayer: number): Strategy[] {
  const half = Math.max(1, Math.floor(nLayer / 2));
  const candidates: Patch[] = [
    { preset: 'none' },
    { preset: 'bottom', k: half },
    { preset: 'top', k: 1 },
    { preset: 'progressive', every: f.every },
    { preset: 'embeddings' },
  ];
  const seen = new Set<string>();
  const out: Strategy[] = [];
  for (const c of candidates) {
    const settings = { ...f, ...c, useDiscriminative: false };
    const plan = freezePlanOf(settings, nLayer);
    const key = JSON.stringify(planChanges(plan, nLayer, f.steps).map((ch) => [ch.step, [...ch.trainable].sort()]));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: planName(plan), patch: { ...c, useDiscriminative: false } });
    if (out.length === 4) break;
  }
  // One more row: LoRA with the user's rank, α and targets (every weight frozen, the adapters train).
  const lora = { preset: 'lora' as const, loraRank: f.loraRank, loraAlpha: f.loraAlpha, loraTargets: f.loraTargets };
  out.push({ name: loraName({ rank: f.loraRank, alpha: f.loraAlpha, targets: f.loraTargets }), patch: { ...lora, useDiscriminative: false } });
  // Last, the one that forgets: every weight trained, five times as long at a high learning rate. It fits the
  // pairs best; the forgetting curve climbs and, on the small world, the quiz falls towards chance.
  const lr = Math.max(f.lr, LONG.lr);
  out.push({ name: msg('compare.longName', { steps: LONG.steps, lr }), patch: { preset: 'none', steps: f.steps * LONG.steps, lr, useDiscriminative: false } });
  return out;
}

/** How much longer the "long" full fine-tune of a comparison is, and its learning rate (at least). */
export const LONG = { steps: 5, lr: 2e-3 };

/** A LoRA run's name in words: "LoRA, rank 8 (α 16)", and where the MLP layers have adapters too, says so. */
export function loraName(l: LoraConfig): Message {
  return msg(l.targets === 'attn,mlp' ? 'plan.loraMlp' : 'plan.lora', { rank: l.rank, alpha: l.alpha });
}

type Patch = Partial<Pick<FinetuneSettings, 'preset' | 'k' | 'every' | 'loraRank' | 'loraAlpha' | 'loraTargets'>>;

/** `name`, or `name #2`, `name #3`… so no two runs in the table share a name. */
export function uniqueName(name: string, taken: string[]): string {
  if (!taken.includes(name)) return name;
  for (let i = 2; ; i++) if (!taken.includes(`${name} #${i}`)) return `${name} #${i}`;
}
