import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/engine/data/corpus';
import { parsePairs, parsePairsStrict } from '../../src/documents/pairsFile';
import { createRng } from '../../src/engine/random';

describe('a pairs file', () => {
  it('reads JSONL with aliases and names each bad line', () => {
    const text = [
      '{"prompt": "a", "response": "b"}',
      '{"instruction": "c", "output": "d"}',
      '',
      '{"question": "e", "answer": "f"}',
      '{"prompt": "g"',
      '{"prompt": "h", "reply": "i"}',
      '[1, 2]',
    ].join('\n');
    const r = parsePairs(text, 'x.jsonl');
    expect(r.pairs).toEqual([
      { prompt: 'a', response: 'b' },
      { prompt: 'c', response: 'd' },
      { prompt: 'e', response: 'f' },
    ]);
    expect(r.problems.map((p) => p.line)).toEqual([5, 6, 7]);
    expect(r.problems[0].message).toMatch(/not valid JSON/);
    expect(r.problems[1].message).toMatch(/no response field.*keys present: prompt, reply/);
    expect(() => parsePairsStrict(text, 'x.jsonl')).toThrow(/x\.jsonl: 3 unreadable lines: line 5: not valid JSON/);
  });
  it('reads CSV with a header, quoted commas and newlines, and reports line numbers', () => {
    const text = 'question,answer\n"Hi, there","Ahoy\nmate"\nonly-one-column\nq2,a2\n';
    const r = parsePairs(text, 'p.csv');
    expect(r.pairs).toEqual([
      { prompt: 'Hi, there', response: 'Ahoy\nmate' },
      { prompt: 'q2', response: 'a2' },
    ]);
    expect(r.problems).toEqual([{ line: 4, code: 'columns', params: { need: 2, found: 1 }, message: expect.stringMatching(/at least 2 columns/) }]);
  });
  it('refuses a binary file (random bytes decoded as text) instead of reading it as pairs', () => {
    const rng = createRng(5);
    const randomText = (lowest: number) => new TextDecoder().decode(Uint8Array.from({ length: 4096 }, () => lowest + rng.int(256 - lowest)));
    // As File.text() decodes an upload: invalid UTF-8 becomes U+FFFD, nothing throws.
    expect(() => parsePairs(randomText(0), 'weights.bin')).toThrow(/^weights\.bin looks binary \(it contains NUL bytes, the first at character \d+\)/);
    expect(() => parsePairsStrict(randomText(1), 'weights.bin')).toThrow(/^weights\.bin looks binary \(\d+ control characters/);
    expect(() => parsePairs(randomText(1))).toThrow(DataError);
  });
  it('names a line with several problems once', () => {
    // Papa reports this row's bad quotes three times: twice 'Trailing quote…', once 'Quoted field unterminated'.
    const text = 'a,b\n"x,"y"z\n';
    expect(parsePairs(text, 'p.csv').problems.map((p) => p.line)).toEqual([2, 2, 2]);
    expect(() => parsePairsStrict(text, 'p.csv')).toThrow(
      /^p\.csv: 1 unreadable line: line 2: Trailing quote on quoted field is malformed and Quoted field unterminated$/,
    );
  });
  it('reads TSV without a header', () => {
    expect(parsePairs('上联一\t下联一\n上联二\t下联二\n').pairs).toEqual([
      { prompt: '上联一', response: '下联一' },
      { prompt: '上联二', response: '下联二' },
    ]);
  });
});
