import { describe, expect, it } from 'vitest';
import { PAIR_PAGE, pairPage } from '../../src/ui/pairPage';

const list = Array.from({ length: 5000 }, (_, i) => ({ prompt: `Question ${i}`, response: i % 10 === 0 ? `Tenth answer ${i}` : `Answer ${i}` }));

describe('the pair editor’s page', () => {
  it('draws one page of any list, with each pair’s index in the whole list', () => {
    const v = pairPage(list, '', 3);
    expect(v.rows.length).toBe(PAIR_PAGE);
    expect(v.rows[0]).toEqual({ pair: list[75], index: 75 });
    expect(v.matches).toBe(5000);
    expect(v.pages).toBe(200);
  });

  it('clamps the page to the pages there are (after a removal or a narrower filter)', () => {
    expect(pairPage(list, '', 10_000).page).toBe(199);
    expect(pairPage(list, '', -3).page).toBe(0);
    expect(pairPage([], '', 2)).toEqual({ rows: [], matches: 0, pages: 1, page: 0 });
  });

  it('filters on every word, in the prompt or the response, ignoring case', () => {
    const v = pairPage(list, 'TENTH 12', 0);
    // 120, 1200…1290, 2120, 3120, 4120: tenth pairs whose text holds "12"
    expect(v.rows.every(({ pair }) => pair.response.startsWith('Tenth') && `${pair.prompt} ${pair.response}`.includes('12'))).toBe(true);
    expect(v.matches).toBe(list.filter((p) => p.response.startsWith('Tenth') && `${p.prompt}\n${p.response}`.includes('12')).length);
    expect(pairPage(list, 'nothing-like-this', 0).matches).toBe(0);
  });
});
