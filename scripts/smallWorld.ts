/**
 * The "small world": an invented village of people, each with a home town, a job, a pet and a favourite
 * food, written as simple English or Chinese by a seeded generator (our own text, no third-party data).
 *
 * It exists for the lesson on what pretraining stores and what fine-tuning draws out:
 * - the **corpus** states every person's facts in several phrasings, in shuffled order, many times over,
 *   with short stories that use the same facts (augmentation: Allen-Zhu & Li, Physics of Language Models,
 *   Part 3.1, found that facts are extractable by fine-tuning only when the pretraining text varies how it
 *   states them); a **plain** variant states each fact one way, in a fixed order, for the contrast;
 * - the **pairs** ask about a training share of the people only, in three wordings per fact;
 * - the **quiz** asks about the other people, whom no pair mentions, each fact once in a wording the pairs
 *   use and once in a wording they never use: the model can know the answers only from pretraining;
 * - the **facts** list every person's facts and split, so any tool can ask new questions.
 *
 * Deterministic: the same seed gives the same world, byte for byte.
 */
import { createRng, type Rng } from '../src/engine/random';
import type { Quiz, QuizItem, WorldFacts } from '../src/datasets/manifest';

export type WorldLang = 'en' | 'zh';

interface Phrasing {
  /** Sentences stating the fact: {n} the name, {v} the value, {a} the English article for {v}. */
  state: string[];
  /** Questions the training pairs use. */
  ask: string[];
  /** A question the training pairs never use (only the quiz asks it). */
  askUnseen: string;
  /** The answer, always this one sentence (one of `state`). */
  answer: string;
}

interface Language {
  names: string[];
  attributes: Record<string, { values: string[]; phrasing: Phrasing }>;
  /** Short stories about one person, from their facts; {n} and the attribute names as placeholders. */
  stories: string[];
  /**
   * Paragraphs about nobody in particular, in both variants: they carry the questions' words (so every
   * character of the pairs and the quiz is in the corpus's vocabulary) without stating anyone's facts.
   */
  school: string[];
  /** A question and its answer as the pretraining text writes them (not the dialogue's template). */
  qa: string;
  /** How sentences join inside a paragraph. */
  join: string;
}

// ---------------------------------------------------------------------------------------------------
// English

const EN_NAMES = (
  'Anna Ben Clara Dan Ella Finn Gina Hugo Ida Jack Kate Leo Mia Ned Olga Paul Rosa Sam Tina Ugo ' +
  'Vera Will Zoe Adam Beth Carl Dora Emil Fay Gus Hana Ivan Jill Kurt Lena Max Nina Otto Pia Rex ' +
  'Sara Tom Una Vic Wendy Yuri Zack Alma Bruno Cora Dean Edna Felix Greta Hank Iris Joel Kira Luke ' +
  'Maya Noel Opal Pete Ruth Seth Tess Umar Vince Wanda Xena Yara Abel Bella Cyril Daisy Eric Flora ' +
  'Glen Heidi Igor Jane Karl Lucy Mark Nora Oscar Polly Rick Stella Theo Ursula Viola Walt Yvonne ' +
  'Amos Bianca Chad Dina Elmer Freya'
).split(' ');

const EN: Language = {
  names: EN_NAMES,
  attributes: {
    town: {
      values: ['Eastwick', 'Saltbay', 'Millford', 'Oakridge', 'Redcliff', 'Stonehaven', 'Brightwater', 'Fernhill'],
      phrasing: {
        state: ['{n} lives in {v}.', '{n} has a house in {v}.', 'The home of {n} is in {v}.', '{n} makes a home in {v}.'],
        ask: ['Where does {n} live?', 'Which town is {n} from?', 'In what town does {n} live?'],
        askUnseen: 'What is the home town of {n}?',
        answer: '{n} lives in {v}.',
      },
    },
    job: {
      values: ['teacher', 'baker', 'fisher', 'doctor', 'painter', 'farmer', 'sailor', 'carpenter'],
      phrasing: {
        state: ['{n} works as {a} {v}.', '{n} earns a living as {a} {v}.', '{n} is {a} {v} by trade.', '{n} has a job as {a} {v}.'],
        ask: ['What does {n} do for a living?', 'What is the job of {n}?', 'What work does {n} do?'],
        askUnseen: 'How does {n} earn a living?',
        answer: '{n} works as {a} {v}.',
      },
    },
    pet: {
      values: ['cat', 'dog', 'parrot', 'rabbit', 'goat', 'turtle', 'horse', 'owl'],
      phrasing: {
        state: ['{n} keeps {a} {v}.', '{n} has a pet {v}.', 'The pet of {n} is {a} {v}.', '{n} looks after {a} {v} at home.'],
        ask: ['What pet does {n} have?', 'Which animal does {n} keep?', 'What kind of pet does {n} own?'],
        askUnseen: 'What animal lives with {n}?',
        answer: '{n} keeps {a} {v}.',
      },
    },
    food: {
      values: ['apples', 'bread', 'soup', 'cheese', 'rice', 'fish', 'honey', 'plums'],
      phrasing: {
        state: ['{n} loves to eat {v}.', 'The favourite food of {n} is {v}.', '{n} likes {v} best.', 'Every day {n} eats {v}.'],
        ask: ['What does {n} like to eat?', 'What is the favourite food of {n}?', 'Which food does {n} love?'],
        askUnseen: 'What food does {n} enjoy most?',
        answer: '{n} loves to eat {v}.',
      },
    },
  },
  stories: [
    'One morning {n} walked to the market in {town}. {n} bought some {food} and went home to feed the {pet}.',
    'In {town} everyone knows {n}, the {job}. After work {n} sits by the fire with {a:pet} {pet} and a plate of {food}.',
    '{n} woke up early. The {pet} was hungry, so {n} fed it before going to work as {a:job} {job} in {town}.',
    'On a rainy day in {town}, {n} stayed at home. {n} cooked {food} and played with the {pet} all afternoon.',
    'When the sun rose over {town}, {n} the {job} was already at work. At noon {n} ate {food}, as always.',
    'A traveller asked for {n} in {town}. "You will find the {job} at home with the {pet}," said a child.',
    'A child asked {n}, "What is that?" "It is my {pet}," said {n}.',
    '"Where are you going?" asked a friend. "To work," said {n}, the {job} of {town}.',
    '"Which way to {town}?" asked a traveller. {n} showed the way and gave the traveller some {food}.',
    '"What kind of work do you do?" asked a visitor. "I am {a:job} {job}," said {n}, "and I live in {town}."',
    'What a day! {n} fed the {pet}, ate some {food} and went to sleep early.',
  ],
  school: [
    'At school the teacher asked the children, "Where do you live? Which town are you from? What job will you do one day?"',
    'The teacher asked, "What kind of pet do you have? Which animal do you keep? What food do you like best?" The children all spoke at once.',
    '"What is the best job?" asked a boy. "Every job is a good job," said the teacher.',
  ],
  qa: 'Question: {q} Answer: {r}',
  join: ' ',
};

// ---------------------------------------------------------------------------------------------------
// Chinese

const ZH_SURNAMES = [...'王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗'];
const ZH_GIVEN = [...'明红伟芳军丽强静磊燕勇霞杰娟涛敏超兰平'];

/** Surname + one given character: 100 distinct two-character names, none inside another. */
function zhNames(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const s = ZH_SURNAMES[i % ZH_SURNAMES.length];
    const g = ZH_GIVEN[(i * 7 + Math.floor(i / ZH_SURNAMES.length)) % ZH_GIVEN.length];
    const name = s + g;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

const ZH: Language = {
  names: zhNames(100),
  attributes: {
    城镇: {
      values: ['东湖镇', '西山村', '南港', '北林镇', '青石镇', '白沙村', '红叶镇', '金河镇'],
      phrasing: {
        state: ['{n}住在{v}。', '{n}的家在{v}。', '{n}是{v}人。', '{n}在{v}有一座房子。'],
        ask: ['{n}住在哪里？', '{n}是哪里人？', '{n}的家在哪儿？'],
        askUnseen: '{n}住在哪个地方？',
        answer: '{n}住在{v}。',
      },
    },
    职业: {
      values: ['老师', '面包师', '渔夫', '医生', '画家', '农民', '水手', '木匠'],
      phrasing: {
        state: ['{n}是一名{v}。', '{n}靠当{v}谋生。', '{n}的职业是{v}。', '{n}每天都去做{v}的工作。'],
        ask: ['{n}是做什么的？', '{n}的职业是什么？', '{n}做什么工作？'],
        askUnseen: '{n}靠什么谋生？',
        answer: '{n}是一名{v}。',
      },
    },
    宠物: {
      values: ['猫', '狗', '鹦鹉', '兔子', '山羊', '乌龟', '仓鼠', '鸽子'],
      phrasing: {
        state: ['{n}养了一只{v}。', '{n}家里有一只{v}。', '{n}的宠物是{v}。', '{n}每天照顾一只{v}。'],
        ask: ['{n}养了什么宠物？', '{n}的宠物是什么？', '{n}家里有什么动物？'],
        askUnseen: '{n}养的是什么动物？',
        answer: '{n}养了一只{v}。',
      },
    },
    食物: {
      values: ['苹果', '面条', '饺子', '米饭', '鱼', '蜂蜜', '包子', '豆腐'],
      phrasing: {
        state: ['{n}最爱吃{v}。', '{n}最喜欢的食物是{v}。', '{n}每天都吃{v}。', '{n}爱吃{v}。'],
        ask: ['{n}最爱吃什么？', '{n}最喜欢什么食物？', '{n}爱吃什么？'],
        askUnseen: '{n}平时喜欢吃什么？',
        answer: '{n}最爱吃{v}。',
      },
    },
  },
  stories: [
    '一天早上，{n}去{城镇}的集市，买了一些{食物}，回家喂了{宠物}。',
    '{城镇}的人都认识{n}这位{职业}。下班以后，{n}和{宠物}坐在火炉边，吃着{食物}。',
    '{n}起得很早。{宠物}饿了，{n}先喂了它，然后去{城镇}当{职业}。',
    '下雨天，{n}留在{城镇}的家里，做了{食物}，陪{宠物}玩了一下午。',
    '太阳升起的时候，{城镇}的{职业}{n}已经在工作了。中午{n}照常吃{食物}。',
    '有个旅人在{城镇}打听{n}。一个孩子说：“那位{职业}在家陪着{宠物}呢。”',
    '一个孩子问{n}：“这是什么动物？”{n}说：“这是我的{宠物}。”',
    '“你住在哪儿？”旅人问。{n}说：“我的家在{城镇}，那是个好地方。”',
    '“你做什么工作？”有人问。{n}回答：“我是{职业}，平时住在{城镇}。”',
    '旅人问：“去{城镇}的路在哪里？”{n}给他指了路，还送了他一些{食物}。',
    '朋友问{n}：“你平时喜欢吃什么？”{n}笑着说：“我最爱吃{食物}。”',
  ],
  school: [
    '老师问孩子们：“你住在哪里？你是哪里人？你的家在哪儿？你住在哪个地方？”',
    '老师又问：“你养了什么宠物？家里有什么动物？你最喜欢什么食物？平时爱吃什么？”孩子们一起回答。',
    '“长大以后做什么工作？靠什么谋生？”老师问。一个孩子说：“每种职业都是好职业。”',
  ],
  qa: '问：{q}答：{r}',
  join: '',
};

const LANGUAGES: Record<WorldLang, Language> = { en: EN, zh: ZH };

// ---------------------------------------------------------------------------------------------------

export interface WorldOptions {
  lang: WorldLang;
  /** Seed of every choice (facts, phrasings, order). */
  seed?: number;
  /** People in the world (at most the names the language has). */
  people?: number;
  /** Share of the people the training pairs ask about; the rest are the quiz's. */
  trainShare?: number;
  /** Biographies per person in the corpus. */
  bios?: number;
  /** Stories per person in the corpus. */
  stories?: number;
  /** False: one phrasing per fact, facts in a fixed order, no stories (the contrast). */
  augmented?: boolean;
  /**
   * Questions about the training people, answered, written into the pretraining text (as "Question: …
   * Answer: …", not the dialogue's template): each training person's facts once each. Allen-Zhu & Li found
   * that such text teaches the model to use what it read, for people no question was about.
   */
  qaInCorpus?: boolean;
}

export interface World {
  facts: WorldFacts[];
  corpus: string;
  pairs: { prompt: string; response: string }[];
  quiz: Quiz;
}

const article = (v: string) => (/^[aeiou]/i.test(v) ? 'an' : 'a');

function fill(template: string, name: string, value?: string): string {
  return template
    .replaceAll('{n}', name)
    .replaceAll('{a}', value ? article(value) : '')
    .replaceAll('{v}', value ?? '');
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function story(template: string, name: string, facts: Record<string, string>): string {
  let s = template.replaceAll('{n}', name);
  for (const [k, v] of Object.entries(facts)) s = s.replaceAll(`{a:${k}}`, article(v)).replaceAll(`{${k}}`, v);
  return s;
}

/** The world for one language; pure and deterministic. */
export function generateWorld(opts: WorldOptions): World {
  const lang = LANGUAGES[opts.lang];
  const { seed = 7, people = 100, trainShare = 0.5, bios = 12, stories = 3, augmented = true, qaInCorpus = true } = opts;
  if (people > lang.names.length) throw new Error(`the ${opts.lang} world has at most ${lang.names.length} names, asked for ${people}`);
  const rng = createRng(seed);
  const attrs = Object.keys(lang.attributes);
  // Every person's facts: each value drawn uniformly (chance of a blind guess: 1 / values).
  const names = shuffle(lang.names, rng).slice(0, people);
  const nTrain = Math.round(people * trainShare);
  const facts: WorldFacts[] = names.map((name, i) => ({
    name,
    facts: Object.fromEntries(attrs.map((a) => [a, lang.attributes[a].values[rng.int(lang.attributes[a].values.length)]])),
    split: i < nTrain ? 'train' : 'quiz',
  }));

  // Corpus: biographies (and stories), every paragraph about one person, in shuffled order.
  const paragraphs: string[] = [];
  for (const p of facts) {
    for (let b = 0; b < bios; b++) {
      const order = augmented ? shuffle(attrs, rng) : attrs;
      paragraphs.push(
        order
          .map((a) => {
            const st = lang.attributes[a].phrasing.state;
            return fill(augmented ? st[rng.int(st.length)] : st[0], p.name, p.facts[a]);
          })
          .join(lang.join),
      );
    }
    if (augmented) for (let s = 0; s < stories; s++) paragraphs.push(story(lang.stories[rng.int(lang.stories.length)], p.name, p.facts));
    if (qaInCorpus && p.split === 'train') {
      for (const a of attrs) {
        const ph = lang.attributes[a].phrasing;
        paragraphs.push(lang.qa.replace('{q}', fill(ph.ask[rng.int(ph.ask.length)], p.name)).replace('{r}', fill(ph.answer, p.name, p.facts[a])));
      }
    }
  }
  for (let i = 0; i < Math.max(3, Math.round(people / 10)); i++) paragraphs.push(lang.school[i % lang.school.length]);
  // Paragraphs about everyone interleave in both variants (so the validation tenth holds everyone too).
  const corpus = shuffle(paragraphs, rng).join('\n\n') + '\n';

  // Pairs: every wording the pairs use, for every fact of the training people.
  const pairs = facts
    .filter((p) => p.split === 'train')
    .flatMap((p) =>
      attrs.flatMap((a) =>
        lang.attributes[a].phrasing.ask.map((q) => ({ prompt: fill(q, p.name), response: fill(lang.attributes[a].phrasing.answer, p.name, p.facts[a]) })),
      ),
    );

  // Quiz: every fact of the other people, once in a wording the pairs never use and once in one they use.
  const items: QuizItem[] = [];
  for (const p of facts.filter((f) => f.split === 'quiz')) {
    for (const a of attrs) {
      const ph = lang.attributes[a].phrasing;
      const expected = fill(ph.answer, p.name, p.facts[a]);
      items.push({ prompt: fill(ph.askUnseen, p.name), name: p.name, attribute: a, value: p.facts[a], expected, unseenWording: true });
      items.push({ prompt: fill(ph.ask[rng.int(ph.ask.length)], p.name), name: p.name, attribute: a, value: p.facts[a], expected, unseenWording: false });
    }
  }
  const values = Object.fromEntries(attrs.map((a) => [a, [...lang.attributes[a].values]]));
  const chance = attrs.reduce((s, a) => s + 1 / lang.attributes[a].values.length, 0) / attrs.length;
  return { facts, corpus, pairs: shuffle(pairs, rng), quiz: { chance, values, names: facts.map((f) => f.name), items } };
}

/** Every word of the world's language (English: lower-cased words; Chinese: characters), to check samples against. */
export function worldVocabulary(world: World, lang: WorldLang): Set<string> {
  const text = world.corpus + world.pairs.map((p) => `${p.prompt} ${p.response}`).join(' ') + world.quiz.items.map((q) => q.prompt).join(' ');
  return lang === 'zh' ? new Set(text.match(/\p{L}/gu) ?? []) : new Set(text.toLowerCase().match(/\p{L}+/gu) ?? []);
}

/** Every sentence the generator writes, as a pattern: names, values and articles as any of theirs. */
export function sentencePatterns(lang: WorldLang): RegExp[] {
  const L = LANGUAGES[lang];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alt = (xs: string[]) => `(?:${xs.map(esc).join('|')})`;
  const names = alt(L.names);
  const anyValue = alt(Object.values(L.attributes).flatMap((a) => a.values));
  const split = (t: string) =>
    (lang === 'zh' ? (t.match(/[^。！？]*[。！？](?:”)?/g) ?? [t]) : (t.match(/[^.!?]*[.!?]"?/g) ?? [t])).map((s) => s.trim()).filter(Boolean);
  const templates = [
    ...Object.values(L.attributes).flatMap((a) => a.phrasing.state),
    ...L.stories.flatMap(split),
    ...L.school.flatMap(split),
    ...Object.values(L.attributes).flatMap((a) => a.phrasing.ask.flatMap((q) => split(L.qa.replace('{q}', q).replace('{r}', a.phrasing.answer)))),
  ];
  const seen = new Set<string>();
  const out: RegExp[] = [];
  for (const t of templates) {
    // Placeholders first, then everything else literally.
    const parts = t.split(/(\{[^}]+\})/);
    const src = parts
      .map((p) => {
        if (p === '{n}') return names;
        if (p === '{a}' || p.startsWith('{a:')) return '(?:a|an)';
        if (p.startsWith('{')) return anyValue;
        return esc(p);
      })
      .join('');
    if (!seen.has(src)) {
      seen.add(src);
      out.push(new RegExp(`^${src}$`, 'u'));
    }
  }
  return out;
}

/**
 * How a sample reads against the world: the share of its words (English) or characters (Chinese) that the
 * world's text has, and of its complete sentences that are sentences the generator writes.
 */
export function checkSample(text: string, world: World, lang: WorldLang): { words: number; sentences: number; grammatical: number } {
  const vocab = worldVocabulary(world, lang);
  const tokens = lang === 'zh' ? (text.match(/\p{L}/gu) ?? []) : (text.toLowerCase().match(/\p{L}+/gu) ?? []);
  const known = tokens.filter((w) => vocab.has(w)).length;
  const patterns = sentencePatterns(lang);
  // Complete sentences only: a sample cut off mid-sentence is not judged on its last fragment.
  const re = lang === 'zh' ? /[^。！？\n]*[。！？]”?/g : /[^.!?\n]*[.!?]"?/g;
  const sentences = (text.match(re) ?? []).map((s) => s.trim()).filter(Boolean);
  // Sentences inside quotes or after a story's opening are judged as written; the stories' own
  // sentences are patterns too.
  const ok = sentences.filter((s) => patterns.some((p) => p.test(s))).length;
  return { words: tokens.length ? known / tokens.length : NaN, sentences: sentences.length, grammatical: sentences.length ? ok / sentences.length : NaN };
}
