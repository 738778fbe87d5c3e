/**
 * The pair editor's view of a list of any size: the pairs a filter matches (case-insensitive words in the
 * prompt or the response), one page of them with their indices in the whole list. Only a page is ever drawn,
 * so 5,000 pairs edit as fast as 50.
 */
import type { Pair } from '../engine/data/pairs';

export const PAIR_PAGE = 25;

export interface PairPage {
  /** The page's pairs with their index in the whole list (what an edit or a removal changes). */
  rows: { pair: Pair; index: number }[];
  /** How many pairs the filter matches (all of them without a filter). */
  matches: number;
  pages: number;
  /** The page shown (the asked one, clamped to the pages there are). */
  page: number;
}

export function pairPage(list: readonly Pair[], filter: string, page: number, size = PAIR_PAGE): PairPage {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const matching: number[] = [];
  for (let i = 0; i < list.length; i++) {
    if (!words.length) matching.push(i);
    else {
      const text = `${list[i].prompt}\n${list[i].response}`.toLowerCase();
      if (words.every((w) => text.includes(w))) matching.push(i);
    }
  }
  const pages = Math.max(1, Math.ceil(matching.length / size));
  const p = Math.max(0, Math.min(Math.floor(page), pages - 1));
  return { rows: matching.slice(p * size, (p + 1) * size).map((index) => ({ pair: list[index], index })), matches: matching.length, pages, page: p };
}
