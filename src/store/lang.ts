/**
 * The languages the page speaks. Here rather than beside the dictionaries (src/ui/i18n.ts) because the
 * store and the URL codec need the list, and they never import the UI.
 */
export const LANGS = ['en', 'zh'] as const;

export type Lang = (typeof LANGS)[number];
