/** Text hygiene: what the page and the CLI accept as text, and how they clean it, before any token exists. */
import { describe, expect, it } from 'vitest';
import { checkText, normalizeText } from '../../src/engine/data/corpus';
import { prepareCorpus } from '../../src/engine/data/prepare';
import { describeProblems, parsePairs } from '../../src/documents/pairsFile';
import { TEXT } from './helpers';

const words = (n: number) => 'the sea is wide and the ship is small. '.repeat(Math.ceil(n / 39)).slice(0, n);

describe('the binary check reads the whole text', () => {
  it('a NUL after the first 64 Ki characters is refused, with where it is', () => {
    const text = words(200_000) + '\u0000' + words(100);
    expect(() => checkText(text, 'late.txt')).toThrow(/late\.txt looks binary \(it contains NUL bytes, the first at character 200001\)/);
  });

  it('a binary tail (control characters) after a long text is refused, naming the window', () => {
    let tail = '';
    for (let i = 0; i < 70_000; i++) tail += String.fromCharCode(i % 31 === 9 || i % 31 === 10 || i % 31 === 13 ? 65 : (i % 31) + 1);
    expect(() => checkText(words(300_000) + tail, 'tail.txt')).toThrow(/tail\.txt looks binary \(\d+ control characters in characters 262145–327680\)/);
  });

  it('a clean long text passes', () => {
    expect(() => checkText(words(300_000))).not.toThrow();
  });
});

describe('line ends and the byte-order mark', () => {
  it('CRLF and CR become newlines, a leading BOM is dropped, and normalising twice changes nothing', () => {
    expect(normalizeText('\uFEFFone\r\ntwo\rthree\n')).toBe('one\ntwo\nthree\n');
    expect(normalizeText(normalizeText('\uFEFFa\r\n\r\nb'))).toBe('a\n\nb');
  });

  it('a CRLF text trains on the same tokens as its LF twin: no \\r or BOM in the vocabulary', () => {
    const lf = prepareCorpus(TEXT, 16);
    const crlf = prepareCorpus('\uFEFF' + TEXT.replace(/\n/g, '\r\n'), 16);
    expect(crlf.tokenizer.vocabSize).toBe(lf.tokenizer.vocabSize);
    expect(crlf.trainTokens).toBe(lf.trainTokens);
    expect(crlf.tokenizer.has('\r')).toBe(false);
    expect(crlf.tokenizer.has('\uFEFF')).toBe(false);
  });
});

describe('pairs the template cannot carry are refused by line', () => {
  it('a prompt holding the end marker (a blank line) and an empty prompt, with their line numbers', () => {
    const csv = 'prompt,response\n"Hi",Hello.\n"Two\n\nturns",Oops.\n"",Nothing asked.\nBye,Farewell.\n';
    const { pairs, problems } = parsePairs(csv, 'p.csv');
    expect(pairs.map((p) => p.prompt)).toEqual(['Hi', 'Bye']);
    expect(describeProblems(problems)).toBe(
      '2 unreadable lines: line 3: prompt contains a blank line, which marks the end of a turn: remove it or join the lines; line 6: prompt is empty',
    );
  });

  it('the same in JSONL, and a CRLF blank line counts as one', () => {
    const jsonl = '{"prompt":"a","response":"b"}\r\n{"prompt":"x\\r\\n\\r\\ny","response":"z"}\r\n{"prompt":"  ","response":"z"}\r\n';
    const { pairs, problems } = parsePairs(jsonl, 'p.jsonl');
    expect(pairs).toEqual([{ prompt: 'a', response: 'b' }]);
    expect(problems.map((p) => [p.line, p.message.split(',')[0]])).toEqual([
      [2, 'prompt contains a blank line'],
      [3, 'prompt is empty'],
    ]);
  });
});
