import { describe, expect, it } from 'vitest';
import { abbreviate, labelGap, labelSide, placeMarkerLabels } from '../../src/ui/charts/markers';

const layout = { domain: [0, 1000] as [number, number], minGap: 0.1, maxChars: 20, maxLanes: 3 };
const lanes = (xs: number[], l = layout) =>
  placeMarkerLabels(
    xs.map((x) => ({ x, label: `m${x}` })),
    l,
  ).map((p) => p.lane);

describe('chart marker labels', () => {
  it('puts markers closer than the gap in different lanes', () => {
    expect(lanes([100, 120])).toEqual([0, 1]);
    expect(lanes([100, 120, 150])).toEqual([0, 1, 2]);
  });
  it('keeps far-apart markers in lane 0', () => {
    expect(lanes([100, 500, 900])).toEqual([0, 0, 0]);
    expect(lanes([0, 100, 200])).toEqual([0, 0, 0]);
  });
  it('reuses a lane once the label before it is far enough left, whatever the input order', () => {
    expect(lanes([300, 120, 100])).toEqual([0, 1, 0]);
  });
  it('measures the gap as a share of the domain', () => {
    expect(lanes([1100, 1130], { ...layout, domain: [1000, 1200] })).toEqual([0, 0]);
    expect(lanes([1100, 1130], { ...layout, domain: [0, 2000] })).toEqual([0, 1]);
    // one-point domain: everything is at the same place
    expect(lanes([5, 5], { ...layout, domain: [5, 5] })).toEqual([0, 1]);
  });
  it('draws no label past the last lane rather than overlapping one', () => {
    expect(lanes([100, 101, 102, 103])).toEqual([0, 1, 2, null]);
  });
  it('shortens long labels and keeps the whole text for the title', () => {
    const [p] = placeMarkerLabels([{ x: 0, label: 'unfreeze → 12 groups, stage 3 of 4' }], layout);
    expect(p.text).toBe('unfreeze → 12 group…');
    expect([...p.text]).toHaveLength(20);
    expect(p.full).toBe('unfreeze → 12 groups, stage 3 of 4');
    expect(abbreviate('fine-tuning starts', 20)).toBe('fine-tuning starts');
    expect(abbreviate('解冻 → 3 组解冻 → 3 组', 6)).toBe('解冻 → …');
  });
  it('sizes the gap to the widest shortened label on the plot', () => {
    // 4 Latin characters at ~6.5 px plus 8 px of space, on a 100 px plot
    expect(labelGap(['abcd', 'ab'], 20, 100)).toBeCloseTo(0.34);
    // wide CJK characters count double
    expect(labelGap(['解冻'], 20, 100)).toBeCloseTo(0.3);
    expect(labelGap(['abcd'], 20, 200)).toBeCloseTo(0.17);
    expect(labelGap(['x'.repeat(100)], 20, 1000)).toBeCloseTo((20 * 6.5 + 8) / 1000);
  });
});

describe('labelSide', () => {
  it('runs a label rightwards from its line, or leftwards, ending at the line, where it would pass the plot’s right edge', () => {
    // "fine-tuning starts": 18 characters, ~117 px at 11px.
    expect(labelSide(80, 'fine-tuning starts', 700)).toEqual({ x: 84, anchor: 'start' });
    expect(labelSide(670, 'fine-tuning starts', 700)).toEqual({ x: 666, anchor: 'end' });
    // Wide characters count double: 开始微调 is ~44 px.
    expect(labelSide(640, '开始微调', 700)).toEqual({ x: 644, anchor: 'start' });
    expect(labelSide(660, '开始微调', 700)).toEqual({ x: 656, anchor: 'end' });
  });
});
