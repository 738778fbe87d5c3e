import { describe, expect, it } from 'vitest';
import { pageReadback, queuedStepsCap, readbackDue } from '../../src/engine/train/readback';

describe('when the trainer reads back', () => {
  it('caps the queued steps by the time a step took (at least one; one before any is measured)', () => {
    expect(queuedStepsCap(250, undefined)).toBe(1);
    expect(queuedStepsCap(250, 2000)).toBe(1); // a software adapter: every step
    expect(queuedStepsCap(250, 100)).toBe(2);
    expect(queuedStepsCap(250, 5)).toBe(50);
    expect(queuedStepsCap(250, 0)).toBe(1); // nothing measured (a step too fast to time) is no licence to queue forever
    expect(queuedStepsCap(250, NaN)).toBe(1);
  });

  it("the page's GPU rule: every 250 ms and 10 steps, but never more than 250 ms of steps queued", () => {
    const gpu = pageReadback(true);
    // A slow device (2 s a step): every step, though neither 10 steps nor (in the loop's own time) 250 ms passed.
    expect(readbackDue(gpu, 1, 30, 2000)).toBe(true);
    // Before the first read-back: after the first step (its time is not known yet).
    expect(readbackDue(gpu, 1, 30, undefined)).toBe(true);
    // A fast one (5 ms a step): the 10-step and 250 ms rule, or 50 steps queued, whichever first.
    expect(readbackDue(gpu, 9, 300, 5)).toBe(false);
    expect(readbackDue(gpu, 10, 300, 5)).toBe(true);
    expect(readbackDue(gpu, 30, 100, 5)).toBe(false);
    expect(readbackDue(gpu, 50, 100, 5)).toBe(true);
  });

  it("the page's CPU rule: every 250 ms, whatever a step takes (its steps are done when they return: nothing is queued)", () => {
    const cpu = pageReadback(false);
    expect(readbackDue(cpu, 1, 249, 2000)).toBe(false);
    expect(readbackDue(cpu, 1, 250, 2000)).toBe(true);
    expect(readbackDue(cpu, 40, 100, 2)).toBe(false);
  });

  it('without a queue bound: by step count, or by time once enough steps are pending', () => {
    expect(readbackDue({ logEvery: 1 }, 1, 0, undefined)).toBe(true);
    expect(readbackDue({ logEvery: 5 }, 4, 1e9, 1e9)).toBe(false);
    expect(readbackDue({ logEvery: 1_000_000, readbackMs: 250 }, 1, 250, 1e9)).toBe(true);
    expect(readbackDue({ logEvery: 1_000_000, readbackMs: 250 }, 1, 249, 1e9)).toBe(false);
    expect(readbackDue({ logEvery: 1_000_000, readbackMs: 250, readbackMinSteps: 3 }, 2, 1e9, 1e9)).toBe(false);
  });
});
