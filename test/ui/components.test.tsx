// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, useState, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { initialState, newRunRecord, set, store } from '../../src/store/store';
import { ModelPanel, archErrors } from '../../src/ui/panels/ModelPanel';
import { ModelDiagram } from '../../src/ui/diagram/ModelDiagram';
import { RunsTable } from '../../src/ui/panels/RunsTable';
import { QuizView, replyText } from '../../src/ui/panels/QuizView';
import { rightByWording, runFileName } from '../../src/ui/runValues';
import { CompareStep, CompareTakeaway, LessonMode } from '../../src/ui/modes/LessonMode';
import { PresentMode } from '../../src/ui/modes/PresentMode';
import { Banners, INFO_NOTICE_MS } from '../../src/ui/App';
import { fineTuneRun } from './fineTuneRun';
import { DataPanel } from '../../src/ui/panels/DataPanel';
import { FinetunePanel } from '../../src/ui/panels/FinetunePanel';
import { TrainSettingsFields } from '../../src/ui/panels/TrainSettings';
import { SampleStrip } from '../../src/ui/panels/SampleStrip';
import { ChatPanel } from '../../src/ui/panels/ChatPanel';
import { NumberField, Tip } from '../../src/ui/Field';
import { translate } from '../../src/i18n/i18n';
import { ARCH_LIMITS, PRESETS, validateConfig, type ArchConfig } from '../../src/engine/model/config';
import type { ModelInfo } from '../../src/worker/protocol';

const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);

const info: ModelInfo = {
  config: { ...PRESETS.tiny, vocabSize: 50 },
  params: 1000,
  vocabSize: 50,
  groupParams: { embeddings: 400, 'block.0': 250, 'block.1': 250, ln_f: 100 },
  step: 10,
  phase: 'pretrain',
  hasSnapshot: true,
};

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
let root: Root | null = null;
let host: HTMLElement;

/** Render into a jsdom container and return its HTML. */
function render(el: ReactElement): string {
  host = document.createElement('div');
  document.body.appendChild(host);
  act(() => {
    root = createRoot(host);
    root.render(el);
  });
  return host.innerHTML;
}

/** jsdom has no ResizeObserver: a chart's box then waits for a width that never comes (the tests here are not about charts). */
function noResizeObserver(): void {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}

beforeEach(() => store.setState(initialState('en'), true));
afterEach(() => {
  act(() => root?.unmount());
  host?.remove();
});

describe('ModelPanel', () => {
  it('explains heads that do not divide the width, next to the field, and disables Create', () => {
    set((s) => ({ data: { ...s.data, source: 'moby-dick-quick' }, model: { ...s.model, arch: { ...s.model.arch, nEmbd: 30, nHead: 4 } } }));
    const html = render(<ModelPanel />);
    expect(html).toContain('Width 30 is not divisible by 4 heads. Try: 1, 2, 3, 5, 6, 10, 15, 30.');
    expect(html).toMatch(/data-testid="create-model" disabled=""/);
  });
  it("names presets by their sizes and the model's last phase in words, in both languages", () => {
    set((s) => ({ data: { ...s.data, source: 'moby-dick-quick' }, model: { ...s.model, info: { ...info, phase: 'finetune', step: 4060 } } }));
    render(<ModelPanel />);
    const options = () => [...host.querySelectorAll('[data-testid=preset-select] option')].map((o) => o.textContent);
    expect(options()).toContain('baby (4 layers, width 128)');
    expect(options()).toContain('custom sizes');
    expect(host.querySelector('[data-testid=model-info]')?.textContent).toContain('4060 steps trained (fine-tuning)');
    act(() => set({ lang: 'zh' }));
    expect(options()).toContain('baby（4 层，宽 128）');
    expect(host.querySelector('[data-testid=model-info]')?.textContent).toContain('已训练 4060 步（微调）');
  });
  it('shows the parameter count and memory estimate for a valid config', () => {
    set((s) => ({ data: { ...s.data, source: 'moby-dick-quick' } }));
    const html = render(<ModelPanel />);
    expect(html).toMatch(/data-testid="param-count">[\d,]+ parameters/);
    expect(html).not.toMatch(/data-testid="create-model" disabled/);
  });
  it('accepts exactly the architectures the engine accepts, on both sides of every limit', () => {
    const engineAccepts = (a: ArchConfig) => {
      try {
        validateConfig({ ...a, vocabSize: 65 });
        return true;
      } catch {
        return false;
      }
    };
    const panelAccepts = (a: ArchConfig) => Object.keys(archErrors(a, t)).length === 0;
    // One head divides every width, and 128 is divisible by every head count at the limits.
    const base: ArchConfig = { ...PRESETS.baby, nHead: 1 };
    const cases: [ArchConfig, boolean][] = [
      ...(['nLayer', 'nHead', 'nEmbd', 'blockSize'] as const).flatMap((k) => {
        const { min, max } = ARCH_LIMITS[k];
        return [
          [{ ...base, [k]: min - 1 }, false],
          [{ ...base, [k]: min }, true],
          [{ ...base, [k]: min + 0.5 }, false],
          [{ ...base, [k]: max }, true],
          [{ ...base, [k]: max + 1 }, false],
        ] as [ArchConfig, boolean][];
      }),
      [{ ...base, dropout: -0.01 }, false],
      [{ ...base, dropout: 0 }, true],
      [{ ...base, dropout: 0.95 }, true],
      [{ ...base, dropout: 1 }, false],
      [{ ...base, nEmbd: 30, nHead: 4 }, false],
    ];
    for (const [a, ok] of cases) {
      expect(engineAccepts(a), JSON.stringify(a)).toBe(ok);
      expect(panelAccepts(a), JSON.stringify(a)).toBe(ok);
    }
  });
  it('validates every field', () => {
    expect(Object.keys(archErrors({ ...PRESETS.baby, nLayer: 0, dropout: 1 }, t)).sort()).toEqual(['dropout', 'nLayer']);
  });
});

describe('ModelDiagram', () => {
  it('shows the fine-tuning plan: frozen and learning groups and the trainable share', () => {
    set((s) => ({ model: { ...s.model, info }, finetune: { ...s.finetune, preset: 'bottom', k: 1 } }));
    const html = render(<ModelDiagram />);
    expect(html).toMatch(/data-testid="group-embeddings" data-state="frozen"/);
    expect(html).toMatch(/data-testid="group-block.0" data-state="frozen"/);
    expect(html).toMatch(/data-testid="group-block.1" data-state="learning"/);
    expect(html).toContain('350 of 1,000 parameters learn (35.0%)');
  });
  it('during a run shows each group’s state and its last update, exactly zero when frozen', () => {
    set((s) => ({
      model: { ...s.model, info },
      run: { ...s.run, runId: 'r1', status: 'running', phase: 'finetune' },
      runs: [
        newRunRecord({
          runId: 'r1',
          name: 'x',
          phase: 'finetune',
          steps: 10,
          stepsDone: 3,
          msPerStep: 1,
          wallMs: 1,
          startedAt: 0,
          trainable: { 'block.1': 1, ln_f: 1 },
          trainableParams: 350,
          updateNorms: { embeddings: 0, 'block.0': 0, 'block.1': 0.0123, ln_f: 0.001 },
        }),
      ],
    }));
    const html = render(<ModelDiagram />);
    expect(html).toMatch(/data-testid="norm-embeddings">update 0</);
    expect(html).toMatch(/data-testid="norm-block.1">update 1.2e-2</);
    expect(html).toContain('Live: the current run.');
    // Locked while it trains, and says so, rather than inviting a click that does nothing.
    expect(host.querySelector('[data-testid=diagram-mode]')?.textContent).toBe('Live: the current run. The groups can be changed once the run stops.');
    expect(host.querySelector<HTMLButtonElement>('[data-testid="group-block.0"]')?.disabled).toBe(true);
    act(() => set((s) => ({ run: { ...s.run, status: 'idle' } })));
    expect(host.querySelector('[data-testid=diagram-mode]')?.textContent).toMatch(/Click a group to freeze or unfreeze it\.$/);
  });
});

describe('TrainSettingsFields', () => {
  it('explains a learning rate that is not above 0 with the learning-rate message, next to its field', () => {
    set((s) => ({ pretrain: { ...s.pretrain, lr: 0 } }));
    render(<TrainSettingsFields slice="pretrain" />);
    const input = host.querySelector('[data-testid="pretrain-lr"]')!;
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(input.getAttribute('aria-describedby')!)?.textContent).toBe(t('train.invalidLr', { max: 1000 }));
  });
});

describe('RunsTable and DataPanel', () => {
  it('lists no runs until there are fine-tuning runs', () => {
    expect(render(<RunsTable />)).toContain(t('runs.empty'));
  });
  it("names the sample answers' columns, before and after, with the pretrained model's leading newline gone, '(no answer)' for nothing and a long one cut with an ellipsis", async () => {
    noResizeObserver();
    const example = (prompt: string, text: string, ok: boolean) => ({ prompt, text, ok });
    const run = fineTuneRun('full fine-tune', [0.2, 0.4], 0.69, { compare: false });
    const model = {
      ...run.score!.model,
      examples: [example('Where does Hank live?', 'Hank lives in Eastwick.', true), example('What does Ugo eat?', ' ', false)],
    };
    const snapshot = {
      ...model,
      examples: [example('Where does Hank live?', '\nQuestion: What is the favourite food of Lucy?', false), example('What does Ugo eat?', '\n\n', false)],
    };
    snapshot.examples.push(example('Who is Vera?', 'Vera '.repeat(40), false));
    model.examples.push(example('Who is Vera?', 'Vera is a baker.', true));
    set({ runs: [{ ...run, score: { model, snapshot } }] });
    render(<RunsTable />);
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const examples = host.querySelector('[data-testid=score-examples] table')!;
    expect([...examples.querySelectorAll('thead th')].map((th) => th.textContent)).toEqual([t('runs.examplePrompt'), t('quiz.before'), t('quiz.after')]);
    const rows = [...examples.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['Where does Hank live?', 'Question: What is the favourite food of Lucy?', 'Hank lives in Eastwick.'],
      ['What does Ugo eat?', t('quiz.empty'), t('quiz.empty')],
      ['Who is Vera?', `${'Vera '.repeat(24).trimEnd()}…`, 'Vera is a baker.'],
    ]);
    // A run's buttons sit in a box inside their cell: the cell stays a table cell, so the row's line runs under them.
    const actions = host.querySelector('[data-testid=run-row] .run-actions')!;
    expect(actions.parentElement!.tagName).toBe('TD');
    expect(actions.parentElement!.className).toBe('');
    expect([...actions.querySelectorAll('button')].map((b) => b.textContent)).toEqual([t('runs.hide'), t('runs.export'), t('runs.delete')]);
    // No quiz: no prompt marked as a new wording.
    expect(examples.textContent).not.toContain('*');
    // The quiz's questions in a wording no pair uses are marked as the quiz marks them, with the note under the table.
    const asked = (prompt: string, unseenWording: boolean) => ({ prompt, expected: '', unseenWording, reply: '', fact: false, person: false });
    const knowledge = { knowledge: 0, person: 0, both: 0, chance: 0.125, answers: [asked('Where does Hank live?', false), asked('What does Ugo eat?', true)] };
    act(() => set({ runs: [{ ...run, score: { model: { ...model, knowledge }, snapshot } }] }));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const cells = [...host.querySelectorAll('[data-testid=score-examples] tbody tr')].map((tr) => tr.querySelector('td')!.textContent);
    expect(cells).toEqual(['Where does Hank live?', 'What does Ugo eat?\u00a0*', 'Who is Vera?']);
    expect(host.querySelector('[data-testid=score-examples] p')?.textContent).toBe(`* ${t('quiz.unseen')}`);
    // Without the pretrained model's answers, no empty "before" column.
    act(() => set({ runs: [{ ...run, score: { model, snapshot: null } }] }));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    expect([...host.querySelectorAll('[data-testid=score-examples] thead th')].map((th) => th.textContent)).toEqual([t('runs.examplePrompt'), t('quiz.after')]);
  });
  it('shows a data error in an alert', () => {
    set((s) => ({ data: { ...s.data, error: 'photo.png is not UTF-8 text (a binary file?).' } }));
    expect(render(<DataPanel />)).toMatch(/role="alert" data-testid="data-error">photo.png is not UTF-8 text/);
  });
  it('renders in Chinese', () => {
    set({ lang: 'zh' });
    expect(render(<DataPanel />)).toContain('1. 数据');
  });
  it('names pasted text in the page’s language (the name its errors and the corpus list show)', async () => {
    set({ lang: 'zh' });
    render(<DataPanel />);
    const area = host.querySelector<HTMLTextAreaElement>('details textarea')!;
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(area, '太短');
      area.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const use = [...host.querySelectorAll('button')].find((b) => b.textContent === '使用粘贴的文本')!;
    await act(async () => {
      use.click();
      await new Promise((done) => setTimeout(done, 0));
    });
    expect(host.querySelector('[data-testid=data-error]')?.textContent).toBe('粘贴的文本 太短，无法训练：至少需要 1000 个字符。');
  });
});

describe("a run's file name", () => {
  it('keeps letters of any script, digits, dots and dashes, and makes every other run of characters one underscore', () => {
    expect(runFileName('full, long (5× steps, lr 0.002)')).toBe('small-gpt-full_long_5_steps_lr_0.002.safetensors');
    expect(runFileName('lora:r8 α16', '-lora')).toBe('small-gpt-lora_r8_α16-lora.safetensors');
    // Two Chinese runs, two files (ASCII-only word characters named both "small-gpt-_").
    expect(runFileName('全量微调')).toBe('small-gpt-全量微调.safetensors');
    expect(runFileName('冻结前两层 #2')).toBe('small-gpt-冻结前两层_2.safetensors');
    expect(runFileName('??')).toBe('small-gpt-run.safetensors');
  });
});

describe('the quiz', () => {
  const answer = (unseenWording: boolean, fact: boolean) => ({
    prompt: 'Where does Hank live?',
    expected: 'Hank lives in Eastwick.',
    unseenWording,
    reply: 'Hank lives in Eastwick.',
    fact,
    person: true,
  });
  const withAnswers = (answers: ReturnType<typeof answer>[]) => {
    const run = fineTuneRun('full fine-tune', [0.2, 0.4], 0.5, { compare: false });
    const knowledge = { knowledge: answers.filter((a) => a.fact).length / answers.length, person: 1, both: 0, chance: 0.125, answers };
    return { ...run, score: { model: { ...run.score!.model, knowledge }, snapshot: null } };
  };
  it('counts right facts apart by wording, and none for a wording the quiz does not ask', () => {
    const answers = [
      answer(false, true),
      answer(false, true),
      answer(false, false),
      answer(true, true),
      answer(true, false),
      answer(true, false),
      answer(true, false),
    ];
    expect(rightByWording(answers)).toEqual({ seen: 2 / 3, unseen: 1 / 4 });
    expect(rightByWording(answers.filter((a) => !a.unseenWording))).toEqual({ seen: 2 / 3, unseen: null });
    expect(rightByWording([])).toEqual({ seen: null, unseen: null });
  });
  it("says how the fine-tuned model does in the pairs' wordings and in the new one, only where the quiz asks both", async () => {
    set({ runs: [withAnswers([answer(false, true), answer(false, true), answer(true, true), answer(true, false)])] });
    render(<QuizView />);
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const line = () => host.querySelector('[data-testid=quiz-summary] [data-testid=quiz-by-wording]')?.textContent?.trim();
    expect(line()).toBe(t('quiz.byWording', { seen: '100%', unseen: '50%' }));
    act(() => set({ lang: 'zh' }));
    expect(line()).toBe('按训练问答的问法提问：100% 正确；用训练问答里没有的问法（*）：50%。');
    act(() => set({ lang: 'en', runs: [withAnswers([answer(false, true), answer(false, false)])] }));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    expect(host.querySelector('[data-testid=quiz-summary]')).not.toBeNull();
    expect(line()).toBeUndefined();
  });
});

describe("the lesson's comparison", () => {
  const run = (name: string, corpusAfter: number, facts: number, compare = true) => fineTuneRun(name, [0.2, corpusAfter], facts, { compare });
  it('says in three sentences what the strategies showed, once two have finished; in Chinese too', async () => {
    // Step 3's fine-tune (on its own, not a strategy) and the comparison's first strategy.
    set({ runs: [run('full fine-tune', 0.464, 0.99, false), run('lora:r8 α16', 0.216, 0.24)] });
    render(<CompareTakeaway />);
    await act(() => new Promise((done) => setTimeout(done, 0)));
    expect(host.querySelector('[data-testid=compare-takeaway]')).toBeNull();
    act(() => set((s) => ({ runs: [...s.runs, run('full fine-tune #2', 0.475, 0.72), run('full, long (5× steps, lr 0.002)', 2.767, 0.14)] })));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const text = (id: string) => host.querySelector(`[data-testid=${id}]`)?.textContent;
    expect(text('takeaway-least')).toBe(t('lessonMode.summaryLeast', { name: 'lora:r8 α16', delta: '+0.016', pct: '24%' }));
    // Not step 3's run (99 %): it is not one of the strategies compared.
    expect(text('takeaway-facts')).toBe(t('lessonMode.summaryFacts', { name: 'full fine-tune #2', pct: '72%' }));
    expect(text('takeaway-most')).toBe(t('lessonMode.summaryMost', { name: 'full, long (5× steps, lr 0.002)', delta: '+2.567', pct: '14%' }));
    act(() => set({ lang: 'zh' }));
    expect(text('takeaway-least')).toBe('最少遗忘预训练文本：lora:r8 α16（语料损失 +0.016；答对事实 24%）。');
  });
});

describe("the lesson's comparison step", () => {
  it('asks for the comparison with its blue button until it has said what it shows; then the button is a plain one', async () => {
    const strategy = (name: string, corpusAfter: number) => fineTuneRun(name, [0.2, corpusAfter], 0.5);
    set((s) => ({ model: { ...s.model, info }, runs: [fineTuneRun('full fine-tune', [0.2, 0.4], 0.7, { compare: false }), strategy('a', 0.3)] }));
    render(<CompareStep />);
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const button = () => host.querySelector('[data-testid=lesson-compare]')!;
    expect(button().className).toBe('primary big');
    act(() => set((s) => ({ runs: [...s.runs, strategy('b', 0.25)] })));
    await act(() => new Promise((done) => setTimeout(done, 0)));
    expect(host.querySelector('[data-testid=compare-takeaway]')).not.toBeNull();
    expect(button().className).toBe('');
  });
});

describe('the presentation', () => {
  // The loss chart waits for a width that never comes (nothing here is about it).
  beforeEach(noResizeObserver);
  const progress = () => host.querySelector('[data-testid=present-progress]')!.textContent;
  it('opened with no model, offers the lesson starter where the diagram will be', () => {
    set({ starters: [{ id: 'world-en', language: 'en', title: { en: 'Small-world starter', zh: '小世界' }, pairs: 'world' }] as never });
    render(<PresentMode />);
    expect(host.querySelector('[data-testid=present-starter]')?.textContent).toBe('Load the starter');
    expect(host.querySelector('[data-testid=diagram]')).toBeNull();
    expect(progress()).toBe('No run yet: load a starter and press F to fine-tune it.');
  });
  it('with a model but its pairs still being prepared, says so (not "load a starter", nor the last run\'s "step 0 of 60")', () => {
    // A new model resets the run's id, not its phase.
    set((s) => ({ model: { ...s.model, info }, run: { ...s.run, runId: null, phase: 'finetune', steps: 60 } }));
    render(<PresentMode />);
    expect(progress()).toBe(t('present.waitPairs'));
    act(() => set((s) => ({ pairs: { ...s.pairs, info: { train: 10, val: 1 } as never } })));
    expect(progress()).toBe(t('present.ready'));
  });
  it('C starts the comparison of strategies (its first strategy recorded as one), and its outcome shows once two are done', async () => {
    set((s) => ({
      backend: { ...s.backend, report: { name: 'wasm', forced: false, reason: '', probes: {} as never } },
      model: { ...s.model, info },
      pairs: { ...s.pairs, info: { train: 10, val: 1 } as never },
    }));
    render(<PresentMode />);
    expect(host.querySelector('[data-testid=compare-takeaway]')).toBeNull();
    expect(host.querySelector('[data-testid=loss-chart]')).not.toBeNull();
    act(() => void window.dispatchEvent(new KeyboardEvent('keydown', { key: 'c' })));
    // No worker in jsdom: the first strategy is recorded, as part of a comparison, then ends in an error.
    const [first] = store.getState().runs;
    expect(first).toMatchObject({ phase: 'finetune', compare: true });
    expect(first.comparison).toMatch(/\S/);
    act(() =>
      set({
        runs: [fineTuneRun('gentle', [0.2, 0.25], 0.7, { comparison: 'c1' }), fineTuneRun('long', [0.2, 2.5], 0.1, { comparison: 'c1' })],
        run: { ...store.getState().run, runId: 'long', phase: 'finetune', status: 'idle', error: null },
      }),
    );
    // The views' runs follow the store a task later (hooks.ts), at once when nothing runs.
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const takeaway = host.querySelector('[data-testid=compare-takeaway]');
    expect(takeaway?.querySelector('[data-testid=takeaway-least]')?.textContent).toContain('gentle');
    expect(takeaway?.querySelector('[data-testid=takeaway-facts]')?.textContent).toContain('gentle (70%)');
    // A compared strategy is not on the loss chart: the comparison's chart takes its place.
    expect(host.querySelector('[data-testid=compare-chart]')?.getAttribute('data-curves')).toBe('2');
    expect(host.querySelector<HTMLElement>('[data-testid=compare-chart]')?.style.height).toBe('400px'); // the projector's height, as the loss chart's
    expect(host.querySelector('[data-testid=loss-chart]')).toBeNull();
    // The progress line (and the quiz score under it) is the last strategy's: it says which.
    expect(progress()).toMatch(/^Fine-tuning · long: step /);
  });
  it('shows its keys in the header, where the room sees them', () => {
    render(<PresentMode />);
    expect(host.querySelector('.present-bar [data-testid=present-keys]')?.textContent).toBe(t('present.keys'));
  });
  it('says a run that took all its steps is done, with the quiz before → after beside it; a stopped one, stopped', () => {
    // F's fine-tune, not a compared strategy: the line needs no name.
    const run = fineTuneRun('full', [0.2, 0.5], 0.69, { compare: false });
    const scored = { ...run, score: { ...run.score!, snapshot: { ...run.score!.model, knowledge: { ...run.score!.model.knowledge!, knowledge: 0.03 } } } };
    set((s) => ({
      model: { ...s.model, info },
      runs: [scored],
      run: { ...s.run, runId: 'full', phase: 'finetune', status: 'idle', step: 60, steps: 60 },
    }));
    render(<PresentMode />);
    expect(progress()).toBe('Fine-tuning: step 60 of 60 · doneQuiz: right facts 3% → 69%');
    expect(host.querySelector('[data-testid=present-starter]')).toBeNull();
    act(() => set((s) => ({ runs: [{ ...s.runs[0], status: 'stopped', score: undefined }] })));
    expect(progress()).toBe('Fine-tuning: step 60 of 60 · stopped');
  });
});

describe('fine-tuning plans that cannot run', () => {
  it('a multi-stage plan with no stages yet renders, says why, and cannot start', () => {
    set((s) => ({ model: { ...s.model, info }, finetune: { ...s.finetune, preset: 'stages', stages: [] } }));
    const diagram = render(<ModelDiagram />);
    expect(diagram).toMatch(/data-testid="group-block.1" data-state="frozen"/);
    const panel = render(<FinetunePanel />);
    expect(panel).toContain(t('error.planNoStages'));
    set({ lang: 'zh' });
    expect(render(<FinetunePanel />)).toContain('分阶段的方案至少需要一个阶段');
    set({ lang: 'en' });
    expect(panel).toMatch(/data-testid="finetune-start" disabled=""/);
  });
  it('a custom plan with every group frozen cannot start, and says so', () => {
    set((s) => ({ model: { ...s.model, info }, finetune: { ...s.finetune, preset: 'custom', frozen: ['embeddings', 'block.0', 'block.1', 'ln_f'] } }));
    const panel = render(<FinetunePanel />);
    expect(panel).toMatch(/data-testid="finetune-start" disabled=""/);
    expect(panel).toContain(t('ft.allFrozen'));
  });

  it("LoRA: rank, α and targets with the adapters' share; the diagram shows every weight frozen and adapters on each block", () => {
    // tiny preset: width 32. Rank 4 on attention: 4·(32 + 96) + 4·(32 + 32) = 768 per block, 1,536 on 2 blocks.
    const model = { ...info, params: 30_000 };
    set((s) => ({ model: { ...s.model, info: model }, finetune: { ...s.finetune, preset: 'lora', loraRank: 4, loraAlpha: 8, loraTargets: 'attn' } }));
    const panel = render(<FinetunePanel />);
    expect(panel).toContain('data-testid="lora-fields"');
    expect(panel).toContain(t('ft.loraParams', { n: '1,536', pct: '5.1' }));
    expect(panel).not.toContain(t('ft.discriminative'));
    const diagram = render(<ModelDiagram />);
    expect(diagram).toContain('data-testid="lora-block.0"');
    expect(diagram).toContain(t('diagram.lora', { r: 4, n: '768' }));
    expect(diagram).not.toContain('lora-embeddings');
    expect(diagram).not.toContain('data-state="learning"');
    // A rank out of range says why and cannot start.
    set((s) => ({ finetune: { ...s.finetune, loraRank: 65 } }));
    expect(render(<FinetunePanel />)).toMatch(/data-testid="finetune-start" disabled=""/);
  });
});

describe('where a fine-tune starts', () => {
  const tuned: ModelInfo = { ...info, phase: 'finetune' };
  const ready = (model: ModelInfo) =>
    set((s) => ({
      backend: { ...s.backend, report: { name: 'wasm', forced: false, reason: '', probes: {} as never } },
      model: { ...s.model, info: model },
      pairs: { ...s.pairs, info: { name: 'Ask a sailor', pairs: 11, trainPairs: 10, valPairs: 1, truncated: 0, longPairs: [], unknownChars: [], heldout: 1 } },
      runs: [fineTuneRun('full, long (5× steps, lr 0.002)', [0.2, 2.5], 0.1, { comparison: 'c1' })],
    }));
  const press = (testId: string) => act(() => host.querySelector<HTMLElement>(`[data-testid=${testId}]`)!.click());
  // No worker in jsdom: each press is recorded with its request, then ends in an error (so the next may start).
  const lastRequest = () => store.getState().runs.at(-1)!.request!;

  it('the lab: unticked, goes on from the weights as they are and names the run that left them; ticked, restores the snapshot, as a run of its own (not a comparison)', () => {
    ready(tuned);
    render(<FinetunePanel />);
    expect(host.querySelector('[data-testid=ft-continue-from]')?.textContent).toBe(t('ft.continueFrom', { name: 'full, long (5× steps, lr 0.002)' }));
    press('finetune-start');
    expect(lastRequest().fromSnapshot).toBe(false);
    press('ft-from-snapshot');
    expect(store.getState().finetune.fromSnapshot).toBe(true);
    expect(host.querySelector('[data-testid=ft-continue-from]')).toBeNull();
    press('finetune-start');
    expect(lastRequest().fromSnapshot).toBe(true);
    expect(store.getState().runs.at(-1)!.compare).toBe(false);
  });

  it('before there is a snapshot (a starter, a model only pretrained) offers no choice: the model as it is becomes it', () => {
    ready({ ...info, hasSnapshot: false });
    set((s) => ({ finetune: { ...s.finetune, fromSnapshot: true } }));
    render(<FinetunePanel />);
    expect(host.querySelector('[data-testid=ft-from-snapshot]')).toBeNull();
    press('finetune-start');
    expect(lastRequest().fromSnapshot).toBe(false);
  });

  it("the lesson's and the presentation's Fine-tune start from the snapshot once there is one, whatever the lab says", () => {
    noResizeObserver();
    ready(tuned);
    render(<PresentMode />);
    act(() => void window.dispatchEvent(new KeyboardEvent('keydown', { key: 'f' })));
    expect(lastRequest().fromSnapshot).toBe(true);
    act(() => root?.unmount());
    host.remove();
    ready({ ...info, hasSnapshot: false });
    set((s) => ({ view: { ...s.view, mode: 'lesson', step: 2 } }));
    render(<LessonMode settings={null} />);
    press('lesson-finetune');
    expect(lastRequest().fromSnapshot).toBe(false); // the first fine-tune of a starter, as it always was
  });
});

describe('notices', () => {
  afterEach(() => vi.useRealTimers());
  it('an info notice goes by itself once read; an error stays until dismissed', () => {
    vi.useFakeTimers();
    render(<Banners />);
    act(() => set({ notice: { kind: 'info', text: { key: 'model.starterLoaded' } } }));
    expect(host.querySelector('[data-testid=notice]')?.getAttribute('role')).toBe('status');
    act(() => void vi.advanceTimersByTime(INFO_NOTICE_MS - 100));
    expect(host.querySelector('[data-testid=notice]')).not.toBeNull();
    act(() => void vi.advanceTimersByTime(200));
    expect(host.querySelector('[data-testid=notice]')).toBeNull();
    act(() => set({ notice: { kind: 'error', text: 'something went wrong' } }));
    act(() => void vi.advanceTimersByTime(10 * INFO_NOTICE_MS));
    expect(host.querySelector('[data-testid=notice]')?.textContent).toContain('something went wrong');
    act(() => host.querySelector<HTMLButtonElement>('[data-testid=notice] button')!.click());
    expect(store.getState().notice).toBeNull();
  });
});

describe('Tip', () => {
  // (That a press inside a label leaves its checkbox alone is checked in Chromium: jsdom has no label activation.)
  it('opens and closes on a press or Enter, and nests validly in a label and a paragraph', () => {
    render(
      <div>
        <label>
          <input type="checkbox" /> option <Tip>why it matters</Tip>
        </label>
        <p>
          text <Tip>inside a paragraph</Tip>
        </p>
      </div>,
    );
    const button = host.querySelector('label .tip-button') as HTMLElement;
    expect(host.textContent).not.toContain('why it matters');
    act(() => button.click());
    expect(host.textContent).toContain('why it matters');
    expect(button.getAttribute('aria-expanded')).toBe('true');
    act(() => button.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })));
    expect(host.textContent).not.toContain('why it matters');
    // phrasing content only, open or closed: nothing a <p> may not hold
    const inParagraph = host.querySelector('p .tip-button') as HTMLElement;
    act(() => inParagraph.click());
    expect(host.querySelector('p')!.textContent).toContain('inside a paragraph');
    expect(host.querySelector('p')!.querySelector('div, p, details, summary')).toBeNull();
  });
});

describe('the lesson’s last step', () => {
  it('ends on a way on, not a dead "Next step": the Lab, with the same model and runs', () => {
    noResizeObserver();
    set((s) => ({ view: { ...s.view, mode: 'lesson', step: 4 } }));
    render(<LessonMode settings={null} />);
    expect(host.querySelector('[data-testid=lesson-next]')).toBeNull();
    const toLab = host.querySelector<HTMLButtonElement>('[data-testid=lesson-to-lab]')!;
    expect(toLab.textContent).toMatch(/^Open the Lab/);
    act(() => toLab.click());
    expect(store.getState().view.mode).toBe('lab');
  });

  it('leads with the comparison’s chart once strategies are compared, not step 3’s loss chart', async () => {
    noResizeObserver();
    set((s) => ({ view: { ...s.view, mode: 'lesson', step: 4 }, runs: [fineTuneRun('full fine-tune', [0.2, 0.5], 0.69, { compare: false })] }));
    render(<LessonMode settings={null} />);
    const view = () => host.querySelector('[data-testid=lesson-view]')!;
    expect(view().querySelector('[data-testid=loss-chart]')).not.toBeNull();
    await act(async () => {
      set((s) => ({ runs: [...s.runs, fineTuneRun('gentle', [0.2, 0.25], 0.7, { comparison: 'c1' })] }));
      await new Promise((done) => setTimeout(done, 0));
    });
    expect(view().querySelector('[data-testid=loss-chart]')).toBeNull();
    expect(view().querySelector('[data-testid=compare-chart]')).not.toBeNull();
  });

  it('has "Next step" on every step before it', () => {
    noResizeObserver();
    set((s) => ({ view: { ...s.view, mode: 'lesson', step: 3 } }));
    render(<LessonMode settings={null} />);
    expect(host.querySelector('[data-testid=lesson-next]')).not.toBeNull();
    expect(host.querySelector('[data-testid=lesson-to-lab]')).toBeNull();
  });
});

describe('a quiz reply as shown', () => {
  it('ends in an ellipsis where the token limit cut it, says "(no answer)" for nothing, and is as it came otherwise', () => {
    expect(replyText({ reply: 'Question: What job wi', cut: true }, '(no answer)')).toBe('Question: What job wi…');
    expect(replyText({ reply: 'favourite food of Freya? ', cut: true }, '(no answer)')).toBe('favourite food of Freya?…'); // the ellipsis at the last word
    expect(replyText({ reply: 'Hank keeps a turtle.', cut: false }, '(no answer)')).toBe('Hank keeps a turtle.');
    expect(replyText({ reply: 'Hank keeps a turtle.' }, '(no answer)')).toBe('Hank keeps a turtle.'); // saved before `cut`
    expect(replyText({ reply: '', cut: true }, '(no answer)')).toBe('(no answer)');
  });
});

describe('the strip of samples', () => {
  it("shows a fine-tune's question once per sample and its replies without a leading line break, '(no answer)' for nothing", async () => {
    const run = fineTuneRun('full fine-tune', [0.2, 0.5], null, { compare: false });
    const request = { samplePrompt: 'Where does Theo live?' } as NonNullable<typeof run.request>;
    set({
      runs: [
        {
          ...run,
          request,
          samples: [
            { step: 50, text: '' },
            { step: 100, text: '\nTheo lives in Oakridge.' },
          ],
        },
      ],
    });
    render(<SampleStrip />);
    await act(() => new Promise((done) => setTimeout(done, 0)));
    const items = [...host.querySelectorAll('[data-testid=sample-strip] li')];
    expect(items.map((li) => li.querySelector('.badge')?.textContent)).toEqual([
      'full fine-tune · step 50 · asked “Where does Theo live?”',
      'full fine-tune · step 100 · asked “Where does Theo live?”',
    ]);
    expect(items.map((li) => li.querySelector('pre')?.textContent)).toEqual(['(no answer)', 'Theo lives in Oakridge.']);
  });
});

describe('a number field', () => {
  /** Types into an input as a browser does: the value set natively, then React's input event. */
  const type = (input: HTMLInputElement, value: string) =>
    act(() => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
  it('shows what is typed while it has focus, even where the stored value is clamped; the stored value once it is left', () => {
    let stored = 200;
    function Clamped() {
      const [v, setV] = useState(200);
      return (
        <NumberField
          label="Max new tokens"
          value={v}
          testId="n"
          onChange={(x) => {
            stored = Math.max(1, Math.floor(x || 1)); // the chat panel's clamp
            setV(stored);
          }}
        />
      );
    }
    render(<Clamped />);
    const input = host.querySelector<HTMLInputElement>('[data-testid=n]')!;
    act(() => input.focus());
    type(input, ''); // cleared to type a new number: not the clamp's 1
    expect(input.value).toBe('');
    type(input, '3');
    type(input, '30');
    type(input, '300');
    expect([input.value, stored]).toEqual(['300', 300]); // not "1300"
    type(input, '-5');
    expect([input.value, stored]).toEqual(['-5', 1]);
    act(() => input.blur());
    expect(input.value).toBe('1'); // left: what is kept
  });
});

describe('the chat’s before/after box', () => {
  it('says why it cannot be ticked before a fine-tune, and says nothing more once it can', () => {
    set((s) => ({ model: { ...s.model, info: { ...info, hasSnapshot: false } } }));
    render(<ChatPanel />);
    const box = () => host.querySelector<HTMLInputElement>('[data-testid=chat-compare]')!;
    expect(box().disabled).toBe(true);
    expect(box().closest('label')?.textContent).toContain(t('chat.compareNeedsSnapshot'));
    act(() => set((s) => ({ model: { ...s.model, info: { ...info, hasSnapshot: true } } })));
    expect(box().disabled).toBe(false);
    expect(box().closest('label')?.textContent).not.toContain(t('chat.compareNeedsSnapshot'));
  });
});
