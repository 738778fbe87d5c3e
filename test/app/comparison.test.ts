/**
 * A comparison's strategies carry its id from the queue to their run records, so that two comparisons run back to
 * back stay two (the lesson's takeaway reads the latest one only: test/ui/modes.test.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { get, initialState, set } from '../../src/store/store';
import { queueComparison } from '../../src/app/runs';
import { compareStrategies } from '../../src/app/compare';

beforeEach(() =>
  set({
    ...initialState('en'),
    backend: { ...initialState('en').backend, report: { name: 'wasm', forced: false, reason: '', probes: {} as never } },
    model: {
      ...initialState('en').model,
      info: { config: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0, bias: false, vocabSize: 70 }, hasSnapshot: true } as never,
    },
  }),
);

describe("a comparison's id", () => {
  it('is the same for every strategy one press queues, and on the run it starts; the next press has its own', () => {
    const strategies = compareStrategies(get().finetune, 4);
    queueComparison(strategies);
    // No worker in this test: the first strategy's run is recorded, then ends in an error ("no worker").
    const [first] = get().runs;
    expect(first.compare).toBe(true);
    expect(first.comparison).toMatch(/\S/);
    expect(get().run.queue).toHaveLength(strategies.length - 1);
    expect(get().run.queue.every((q) => q.comparison === first.comparison)).toBe(true);

    set((s) => ({ run: { ...s.run, status: 'idle', queue: [] } }));
    queueComparison(strategies);
    const second = get().runs.at(-1)!;
    expect(get().runs).toHaveLength(2);
    expect(second.comparison).toMatch(/\S/);
    expect(second.comparison).not.toBe(first.comparison);
  });
});
