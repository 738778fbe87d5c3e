/** Chat: a reply streamed token by token, from the model and (before/after) from the pretrained snapshot. */
import { get, set } from '../store/store';
import { errorText } from '../i18n/i18n';
import { notify } from './notify';
import { worker } from './worker';
import type { TokenWhy } from '../worker/protocol';

export async function chat(prompt: string): Promise<void> {
  const st = get();
  if (!st.model.info || st.chat.busy) return;
  const chatMode = st.model.info.phase === 'finetune' || st.chat.compare;
  const targets: ('model' | 'snapshot')[] = st.chat.compare && st.model.info.hasSnapshot ? ['snapshot', 'model'] : ['model'];
  set((s) => ({ chat: { ...s.chat, busy: true, messages: [...s.chat.messages, { role: 'user', text: prompt }] } }));
  try {
    for (const from of targets) {
      const role = from === 'snapshot' ? 'snapshot' : 'model';
      set((s) => ({ chat: { ...s.chat, messages: [...s.chat.messages, { role, text: '' }] } }));
      const append = (t: string, why?: TokenWhy) =>
        set((s) => {
          const msgs = [...s.chat.messages];
          const last = msgs[msgs.length - 1];
          msgs[msgs.length - 1] = { ...last, text: last.text + t, tokens: [...(last.tokens ?? []), { text: t, why }] };
          return { chat: { ...s.chat, messages: msgs } };
        });
      await worker().request('sample', { prompt, chat: chatMode, settings: get().sampling, from }, { onToken: append });
    }
  } catch (e) {
    notify('error', errorText(e));
  } finally {
    set((s) => ({ chat: { ...s.chat, busy: false } }));
  }
}

/** The attention maps of a prompt (as chat wraps it, when the model has been fine-tuned), for the heatmap. */
export async function showAttention(prompt: string): Promise<void> {
  const st = get();
  if (!st.model.info || st.attention.busy) return;
  const chatMode = st.model.info.phase === 'finetune' || st.chat.compare;
  set((s) => ({ attention: { ...s.attention, busy: true } }));
  try {
    const e = await worker().request('attention', { prompt, chat: chatMode, from: 'model' });
    set((s) => ({
      attention: {
        ...s.attention,
        maps: { prompt, tokens: e.tokens, layers: e.layers, heads: e.heads, weights: e.weights },
        layer: Math.min(s.attention.layer, e.layers - 1),
        head: Math.min(s.attention.head, e.heads - 1),
      },
    }));
  } catch (e) {
    notify('error', errorText(e));
  } finally {
    set((s) => ({ attention: { ...s.attention, busy: false } }));
  }
}
