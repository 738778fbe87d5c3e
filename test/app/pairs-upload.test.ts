/**
 * A pairs file none of whose lines reads: the error names the file and why, says the pairs in use stay, and they do.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { initialState, store } from '../../src/store/store';
import { applyLessonFinetune, selectPairs } from '../../src/app/data';
import { render } from '../../src/i18n/i18n';

beforeEach(() => store.setState(initialState('en'), true));

describe('an unreadable pairs upload', () => {
  it('names the file and the reason, and keeps the pairs in use', async () => {
    const inUse = [{ prompt: 'Where does Theo live?', response: 'Theo lives in Oakridge.' }];
    store.setState({ pairs: { ...store.getState().pairs, source: 'small-world-qa', list: inUse } });
    await selectPairs('upload:bad.jsonl', '{"prompt": "unterminated\nthis is not json\n', 'bad.jsonl');
    const { pairs } = store.getState();
    expect(pairs.list).toEqual(inUse);
    expect(pairs.source).toBe('small-world-qa');
    const en = render('en', pairs.error!);
    expect(en).toMatch(
      /^bad\.jsonl: no pair could be read \(2 unreadable lines: line 1: not valid JSON: “\{"prompt": "unterminated”; line 2: not valid JSON: “this is not json”\)\. The pairs in use are unchanged\.$/,
    );
    expect(render('zh', pairs.error!)).toMatch(
      // The line's own text, not the JSON parser's English.
      /^bad\.jsonl：读不出任何问答（有 2 行无法读取：第 1 行：不是有效的 JSON：“\{"prompt": "unterminated”；第 2 行：不是有效的 JSON：“this is not json”）。正在使用的问答没有变。$/,
    );
  });
});

describe("a lesson's fine-tune recipe", () => {
  it('names the plan in the page’s language, not by the setting’s value', () => {
    store.setState(initialState('en'), true);
    applyLessonFinetune('small-world-qa');
    const notice = store.getState().notice!;
    expect(notice.kind).toBe('info');
    expect(render('en', notice.text)).toMatch(/plan “full fine-tune”/);
    expect(render('zh', notice.text)).toMatch(/方案“全量微调”/);
    expect(render('en', notice.text)).not.toMatch(/“none”/);
  });
});
