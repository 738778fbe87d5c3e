/** The banner under the header: an info or error message, stored untranslated. */
import { set } from '../store/store';
import { msg, type Key, type Message, type Text } from '../i18n/i18n';

export function notify(kind: 'info' | 'error', text: Text): void {
  set({ notice: { kind, text } });
}

/** A translated notice from a dictionary key. */
export function notifyKey(kind: 'info' | 'error', key: Key, params?: Message['params']): void {
  notify(kind, msg(key, params));
}
