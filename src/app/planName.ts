/**
 * A freeze plan as a student reads it on the chart's legend and in the runs table ("bottom 2 frozen", "full
 * fine-tune"), translated when drawn. The CLI's notation (`none`, `bottom:2`, describePlan) stays for what a
 * user types; explicit stages have no short words and keep it.
 */
import { describePlan, type FreezePlan } from '../engine/train/freeze';
import { msg, type Text } from '../i18n/i18n';

export function planName(plan: FreezePlan): Text {
  switch (plan.kind) {
    case 'none':
      return msg('plan.none');
    case 'embeddings':
      return msg('plan.embeddings');
    case 'bottom':
      return msg('plan.bottom', { k: plan.k });
    case 'top':
      return msg('plan.top', { k: plan.k });
    case 'progressive':
      return msg('plan.progressive', { every: plan.every });
    case 'stages':
      return describePlan(plan);
  }
}
