import { describe, expect, it } from 'vitest';
import { firstSentence, judgeKnowledge, knowledgeOf } from '../../src/engine/eval/knowledge';
import type { Quiz, QuizItem } from '../../src/engine/eval/quiz';

const quiz: Pick<Quiz, 'values' | 'names'> = {
  values: { town: ['Eastwick', 'Saltbay', 'Fernhill'], food: ['fish', 'bread'], 食物: ['鱼', '面条', '鲸鱼'] },
  names: ['Anna', 'Ann', 'Ben', '王红', '王红梅'],
};
const item = (name: string, attribute: string, value: string): QuizItem => ({ prompt: '', name, attribute, value, expected: '', unseenWording: true });
const anna = item('Anna', 'town', 'Eastwick');

describe('judgeKnowledge', () => {
  it('right fact and right person', () => expect(judgeKnowledge('Anna lives in Eastwick.', anna, quiz)).toEqual({ fact: true, person: true }));
  it('right fact, wrong person', () => expect(judgeKnowledge('Ben lives in Eastwick.', anna, quiz)).toEqual({ fact: true, person: false }));
  it('wrong fact, right person', () => expect(judgeKnowledge('Anna lives in Saltbay.', anna, quiz)).toEqual({ fact: false, person: true }));
  it('neither, and an empty reply', () => {
    expect(judgeKnowledge('Ben keeps a dog.', anna, quiz)).toEqual({ fact: false, person: false });
    expect(judgeKnowledge('', anna, quiz)).toEqual({ fact: false, person: false });
  });
  it('two values, or two people, are not an answer', () => {
    expect(judgeKnowledge('Anna lives in Eastwick or Saltbay.', anna, quiz).fact).toBe(false);
    expect(judgeKnowledge('Anna and Ben live in Eastwick.', anna, quiz)).toEqual({ fact: true, person: false });
  });
  it('judges the first sentence only: the right value later in a ramble does not count', () => {
    expect(judgeKnowledge('Anna lives in Saltbay. Anna lives in Eastwick.', anna, quiz).fact).toBe(false);
    expect(firstSentence('  Anna keeps a cat. And more')).toBe('Anna keeps a cat.');
    expect(firstSentence('王红住在东湖镇。王红养了一只猫。')).toBe('王红住在东湖镇。');
  });
  it('matches whole words, case-insensitively, and a name inside a longer name is that name', () => {
    expect(judgeKnowledge('Anna loves to eat fishcakes.', item('Anna', 'food', 'fish'), quiz).fact).toBe(false);
    expect(judgeKnowledge('anna loves to eat FISH.', item('Anna', 'food', 'fish'), quiz)).toEqual({ fact: true, person: true });
    expect(judgeKnowledge('Ann lives in Eastwick.', anna, quiz).person).toBe(false);
  });
  it('Chinese: substrings, the longer value or name wins', () => {
    const wang = item('王红', '食物', '鱼');
    expect(judgeKnowledge('王红最爱吃鱼。', wang, quiz)).toEqual({ fact: true, person: true });
    expect(judgeKnowledge('王红最爱吃鲸鱼。', wang, quiz).fact).toBe(false);
    expect(judgeKnowledge('王红梅最爱吃鱼。', wang, quiz)).toEqual({ fact: true, person: false });
  });
});

describe('knowledgeOf', () => {
  it('counts facts, people and both over all answers', () => {
    const a = (fact: boolean, person: boolean) => ({ item: anna, reply: '', stopped: true, fact, person });
    const k = knowledgeOf([a(true, true), a(true, false), a(false, true), a(false, false)], 0.125);
    expect([k.knowledge, k.person, k.both, k.chance, k.questions]).toEqual([0.5, 0.5, 0.25, 0.125, 4]);
  });
});
