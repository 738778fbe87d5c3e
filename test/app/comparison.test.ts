/**
 * A comparison's strategies carry its id from the queue to their run records, so that two comparisons run back to
 * back stay two (the lesson's takeaway reads the latest one only: test/ui/modes.test.ts).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { get, initialState, set } from '../../src/store/store';
import { queueComparison } from '../../src/app/runs';
import { compareStrategies } from '../../src/app/compare';

// The worker takes the request (or, with `refuse`, cannot be reached); nothing trains here.
const sent: unknown[] = [];
let refuse = false;
vi.mock('../../src/app/worker', () => ({
  worker: () => ({
    send: (r: unknown) => {
      if (refuse) throw new Error('no worker');
      sent.push(r);
    },
  }),
}));

beforeEach(() => {
  sent.length = 0;
  refuse = false;
  const s = initialState('en');
  set({
    ...s,
    backend: { ...s.backend, report: { name: 'wasm', forced: false, reason: '', probes: {} as never } },
    model: {
      ...s.model,
      info: { config: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false, vocabSize: 70 }, hasSnapshot: true } as never,
    },
  });
});

describe("a comparison's id", () => {
  it('is the same for every strategy one press queues, and on the run it starts; the next press has its own', () => {
    const strategies = compareStrategies(get().finetune, 4);
    queueComparison(strategies);
    const [first] = get().runs;
    expect(sent).toHaveLength(1);
    expect(first.status).toBe('running');
    expect(first.compare).toBe(true);
    expect(first.comparison).toMatch(/\S/);
    expect(get().run.queue).toHaveLength(strategies.length - 1);
    expect(get().run.queue.every((q) => q.comparison === first.comparison)).toBe(true);

    // The first comparison over (Stop, say): the next press is another comparison.
    set((s) => ({ run: { ...s.run, status: 'idle', queue: [] } }));
    queueComparison(strategies);
    const second = get().runs.at(-1)!;
    expect(get().runs).toHaveLength(2);
    expect(second.comparison).toMatch(/\S/);
    expect(second.comparison).not.toBe(first.comparison);
  });

  it('drops the rest of the comparison when its strategy is refused (too large for the device)', () => {
    set((s) => ({ finetune: { ...s.finetune, batchSize: 100_000 } }));
    queueComparison(compareStrategies(get().finetune, 4));
    expect(get().runs).toEqual([]);
    expect((get().notice?.text as { key: string }).key).toBe('error.memoryBatch');
    expect(get().run.queue).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('drops the rest of the comparison when its strategy cannot reach the worker (as a run ending in an error does)', () => {
    refuse = true;
    queueComparison(compareStrategies(get().finetune, 4));
    expect(get().runs[0].status).toBe('error');
    expect(get().run.status).toBe('error');
    expect(get().run.queue).toEqual([]);
  });
});
