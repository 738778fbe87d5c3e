/**
 * One spec builder: the page (a RunRequest built from the store's settings) and the CLI (its flags) must
 * give the trainer the same TrainSpec for the same settings — the defaults, and a changed set.
 */
import { describe, expect, it } from 'vitest';
import { initialState, type AppState } from '../../src/store/store';
import { prescoreRequest, runRequest } from '../../src/app/runs';
import { parseFlags, settingsFromFlags } from '../../cli/args';
import { finetuneEvals, finetuneSpec, pretrainSpec, runSeed } from '../../src/engine/train/specs';
import { evaluationKey } from '../../src/engine/train/evaluate';
import { prepareCorpus, preparePairs } from '../../src/engine/data/prepare';
import { PAIRS_SPLIT_SEED, PAIRS_VAL_FRACTION } from '../../src/engine/train/lesson';
import type { ModelInfo } from '../../src/worker/protocol';

const TEXT = 'the sea was calm and the ship sailed on; '.repeat(60) + 'Q: A: \n';
const corpus = prepareCorpus(TEXT, 16);
const pairs = preparePairs(
  corpus.tokenizer,
  Array.from({ length: 20 }, (_, i) => ({ prompt: `the sea ${i % 3}`, response: 'calm' })),
  16,
  { seed: PAIRS_SPLIT_SEED, valFraction: PAIRS_VAL_FRACTION },
);

function pageState(patch: (s: AppState) => AppState = (s) => s): AppState {
  const s = initialState('en');
  const info = { config: { ...s.model.arch, vocabSize: corpus.tokenizer.vocabSize }, hasSnapshot: false } as ModelInfo;
  return patch({ ...s, model: { ...s.model, info } });
}

describe('the page and the CLI build one spec', () => {
  it('with the lesson defaults: pretraining and fine-tuning', () => {
    const st = pageState();
    const pagePre = pretrainSpec(runRequest(st, 'pretrain', false), corpus);
    const cliPre = pretrainSpec(settingsFromFlags(parseFlags(['pretrain']), 'pretrain'), corpus);
    expect(pagePre).toEqual(cliPre);
    const pageFt = finetuneSpec(runRequest(st, 'finetune', false), pairs, corpus.tokenizer, corpus);
    const cliFt = finetuneSpec(settingsFromFlags(parseFlags(['finetune']), 'finetune'), pairs, corpus.tokenizer, corpus);
    expect(pageFt).toEqual(cliFt);
    expect(pageFt.freeze).toEqual({ kind: 'progressive', every: 20 });
    expect(pageFt.evals!.map((e) => e.name)).toEqual(['pairs-train', 'pairs-val', 'corpus-val']);
  });

  it('with changed settings: steps, lr, batch, schedule, warmup, evaluation, freezing, discriminative rates', () => {
    const st = pageState((s) => ({
      ...s,
      model: { ...s.model, seed: 7 },
      finetune: {
        ...s.finetune,
        steps: 50,
        lr: 1e-3,
        batchSize: 4,
        schedule: 'constant',
        warmupSteps: 5,
        evalEvery: 10,
        evalIters: 2,
        preset: 'bottom',
        k: 1,
        useDiscriminative: true,
        discriminative: 2,
      },
    }));
    const flags = [
      'finetune',
      '--steps',
      '50',
      '--lr',
      '1e-3',
      '--batch',
      '4',
      '--schedule',
      'constant',
      '--warmup',
      '5',
      '--eval-every',
      '10',
      '--eval-iters',
      '2',
      '--freeze',
      'bottom:1',
      '--discriminative',
      '2',
      '--seed',
      '7',
    ];
    const page = runRequest(st, 'finetune', false);
    const cli = settingsFromFlags(parseFlags(flags), 'finetune');
    expect(finetuneSpec(page, pairs, corpus.tokenizer, null)).toEqual(finetuneSpec(cli, pairs, corpus.tokenizer, null));
    expect(finetuneSpec(cli, pairs, corpus.tokenizer, null).schedule).toEqual({ kind: 'constant', lr: 1e-3, warmupSteps: 5 });
    expect(runSeed(page.seed, false, 300)).toBe(runSeed(cli.seed, false, 300));
  });

  it('with LoRA: the adapters alone train, every weight frozen', () => {
    const st = pageState((s) => ({ ...s, finetune: { ...s.finetune, preset: 'lora', loraRank: 4, loraAlpha: 8, loraTargets: 'attn,mlp' } }));
    const page = runRequest(st, 'finetune', false);
    const cli = settingsFromFlags(parseFlags(['finetune', '--lora', '4', '--lora-targets', 'attn,mlp']), 'finetune');
    expect(page.lora).toEqual(cli.lora);
    const spec = finetuneSpec(page, pairs, corpus.tokenizer, corpus);
    expect(spec).toEqual(finetuneSpec(cli, pairs, corpus.tokenizer, corpus));
    expect(spec.adaptersOnly).toBe(true);
    expect(spec.freeze).toEqual({ kind: 'none' });
  });

  it('a difference in any setting shows (the comparison is not vacuous)', () => {
    const st = pageState((s) => ({ ...s, pretrain: { ...s.pretrain, warmupSteps: 3 } }));
    const page = pretrainSpec(runRequest(st, 'pretrain', false), corpus);
    const cli = pretrainSpec(settingsFromFlags(parseFlags(['pretrain']), 'pretrain'), corpus);
    expect(page).not.toEqual(cli);
  });

  it('the prescore asks for the evaluation the fine-tune would run: its batches, its sources', () => {
    for (const st of [pageState(), pageState((s) => ({ ...s, finetune: { ...s.finetune, batchSize: 3, evalIters: 5, forgetting: !s.finetune.forgetting } }))]) {
      const ahead = prescoreRequest(st).evaluation!;
      const req = runRequest(st, 'finetune', false);
      const run = finetuneSpec(req, pairs, corpus.tokenizer, req.forgetting ? corpus : null); // as the worker's setUpRun
      expect(evaluationKey(finetuneEvals(pairs, ahead.forgetting ? corpus : null), ahead.batchSize, ahead.evalIters)).toBe(
        evaluationKey(run.evals!, run.batchSize, run.evalIters!),
      );
      expect(ahead.forgetting).toBe(st.finetune.forgetting);
      expect(prescoreRequest(st).settings).toEqual(st.sampling);
    }
    // A fine-tune that does not evaluate, or a LoRA one (its model has adapters at step 0): nothing to measure ahead.
    expect(prescoreRequest(pageState((s) => ({ ...s, finetune: { ...s.finetune, evalEvery: 0 } }))).evaluation).toBeUndefined();
    const lora = pageState((s) => ({ ...s, finetune: { ...s.finetune, preset: 'lora' } }));
    expect(runRequest(lora, 'finetune', false).lora).toBeDefined();
    expect(prescoreRequest(lora).evaluation).toBeUndefined();
  });
});

describe("the strip's sample prompt", () => {
  it("asks a fine-tune's strip the pairs' first question when none is typed; a typed one, or pretraining's, as given", () => {
    const st = initialState('en');
    const withPairs: AppState = { ...st, pairs: { ...st.pairs, list: [{ prompt: 'Where does Theo live?', response: 'Theo lives in Oakridge.' }] } };
    expect(runRequest(withPairs, 'finetune', false).samplePrompt).toBe('Where does Theo live?');
    expect(runRequest({ ...withPairs, finetune: { ...withPairs.finetune, samplePrompt: 'Who is Vera?' } }, 'finetune', false).samplePrompt).toBe(
      'Who is Vera?',
    );
    expect(runRequest(withPairs, 'pretrain', false).samplePrompt).toBe('');
    expect(runRequest(st, 'finetune', false).samplePrompt).toBe(''); // no pairs yet
  });
});
