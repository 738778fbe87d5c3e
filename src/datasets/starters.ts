/**
 * Starter models: pretrained checkpoints that ship in the build (public/starters/), written by
 * `npm run starters` (scripts/starters.ts) with the settings below. Plain data, read by the app and the script.
 */

export const STARTERS_DIR = 'starters';
export const STARTERS_FILE = 'starters.json';

export interface StarterSpec {
  id: string;
  language: 'en' | 'zh';
  title: { en: string; zh: string };
  /** Bundled corpus it is pretrained on, and the pairs its lesson fine-tunes on. */
  corpus: string;
  pairs: string;
  /** CLI pretrain options (fixed seed: the same command gives the same file). */
  args: string[];
}

/** What the manifest says of a built starter. */
export interface StarterEntry {
  id: string;
  language: 'en' | 'zh';
  title: { en: string; zh: string };
  corpus: string;
  pairs: string;
  file: string;
  /** The command that trained it. */
  command: string;
  /** Validation loss of the shipped (F16) weights on the corpus's held-out tenth. */
  valLoss: number | null;
  /** Before any fine-tuning: share (%) of held-out prompts answered in the dialogue format, and of known words. */
  format: number | null;
  words: number | null;
  /** Small world: share (%) of quiz questions answered with the right fact before any fine-tuning. */
  knowledge?: number | null;
  /** Small world: its samples' share (%) of known words and of sentences the world's generator writes. */
  samples?: { words: number; sentences: number; grammatical: number } | null;
  /** Its own training curve, to draw beside the student's. */
  curve: { step: number; loss?: number; train?: number; val?: number }[];
}

export const STARTERS: StarterSpec[] = [
  {
    id: 'world-en',
    language: 'en',
    title: { en: 'Small-world starter (4 layers, width 128, context 128)', zh: '小世界预训练模型（英文；4 层，宽 128，上下文 128）' },
    corpus: 'small-world',
    pairs: 'small-world-qa',
    args: [
      '--preset',
      'baby',
      '--block',
      '128',
      '--batch',
      '8',
      '--lr',
      '2e-3',
      '--warmup',
      '100',
      '--steps',
      '4000',
      '--seed',
      '1337',
      '--eval-every',
      '500',
      '--eval-iters',
      '20',
    ],
  },
  {
    id: 'world-zh',
    language: 'zh',
    title: { en: 'Small-world starter, Chinese (4 layers, width 128, context 64)', zh: '小世界预训练模型（4 层，宽 128，上下文 64）' },
    corpus: 'small-world-zh',
    pairs: 'small-world-zh-qa',
    args: [
      '--preset',
      'baby',
      '--block',
      '64',
      '--batch',
      '12',
      '--lr',
      '2e-3',
      '--warmup',
      '100',
      '--steps',
      '2000',
      '--seed',
      '1337',
      '--eval-every',
      '250',
      '--eval-iters',
      '20',
    ],
  },
  {
    id: 'en',
    language: 'en',
    title: { en: 'Moby-Dick starter (4 layers, width 128, context 192)', zh: '《白鲸》预训练模型（4 层，宽 128，上下文 192）' },
    corpus: 'moby-dick',
    pairs: 'sailor',
    args: [
      '--preset',
      'baby',
      '--block',
      '192',
      '--batch',
      '8',
      '--lr',
      '2e-3',
      '--warmup',
      '100',
      '--steps',
      '3000',
      '--seed',
      '1337',
      '--eval-every',
      '250',
      '--eval-iters',
      '20',
    ],
  },
  {
    id: 'zh',
    language: 'zh',
    title: { en: 'Tang quatrain starter (4 layers, width 128, context 64)', zh: '唐诗绝句预训练模型（4 层，宽 128，上下文 64）' },
    corpus: 'tang-jueju',
    pairs: 'couplets',
    args: [
      '--preset',
      'baby',
      '--block',
      '64',
      '--batch',
      '12',
      '--lr',
      '2e-3',
      '--warmup',
      '100',
      '--steps',
      '3000',
      '--seed',
      '1337',
      '--eval-every',
      '250',
      '--eval-iters',
      '20',
    ],
  },
];
