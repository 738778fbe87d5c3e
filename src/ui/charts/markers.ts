/**
 * Where the loss chart's marker labels go. Phase and unfreeze markers can sit a few steps apart, and
 * labels drawn at the same height then print over each other; each label gets a lane (a text row from the
 * top of the plot) so that labels closer than `minGap` never share one.
 */

export interface MarkerInput {
  x: number;
  label: string;
}

export interface PlacedLabel {
  /** Text row from the top, or null when every lane is taken near this x: the label is not drawn. */
  lane: number | null;
  /** What is drawn: the label, shortened with an ellipsis when long. */
  text: string;
  /** The whole label, for the hover title. */
  full: string;
}

export interface LabelLayout {
  /** The x axis' [min, max]. */
  domain: readonly [number, number];
  /** Least distance, as a fraction of the domain, between two labels in one lane (a label's width). */
  minGap: number;
  maxChars: number;
  maxLanes: number;
}

/** The label cut to maxChars code points (not UTF-16 units, so a character is never split). */
export function abbreviate(label: string, maxChars: number): string {
  const chars = [...label];
  return chars.length <= maxChars ? label : `${chars.slice(0, maxChars - 1).join('')}…`;
}

/**
 * The gap that the widest shown label needs, as a share of the plot width. Widths are estimated for the
 * chart's 11px font (wide CJK characters count double) rather than measured: measuring text forces a
 * page layout on every redraw while training.
 */
export function labelGap(labels: readonly string[], maxChars: number, plotWidthPx: number): number {
  const widest = Math.max(0, ...labels.map((l) => labelWidth(abbreviate(l, maxChars))));
  return (widest + 8) / Math.max(1, plotWidthPx);
}

/** A label's estimated width in px at the chart's 11px font (wide CJK characters count double). */
export function labelWidth(text: string): number {
  return [...text].reduce((w, ch) => w + (ch.codePointAt(0)! >= 0x2e80 ? 11 : 6.5), 0);
}

/**
 * Where a label beside its line at x starts, and which way it runs: rightwards from the line, or, where it would
 * run past the plot's right edge (a fine-tune begun near the end of the axis), leftwards, ending at the line.
 */
export function labelSide(x: number, text: string, plotRight: number): { x: number; anchor: 'start' | 'end' } {
  return x + 4 + labelWidth(text) > plotRight ? { x: x - 4, anchor: 'end' } : { x: x + 4, anchor: 'start' };
}

/** Position of x along the domain, 0 to 1; a domain of one point puts everything at 0. */
function fraction(x: number, [lo, hi]: readonly [number, number]): number {
  return hi > lo ? (x - lo) / (hi - lo) : 0;
}

/**
 * A lane for each marker, in input order. Left to right, each label takes the first lane whose last label
 * is at least minGap to its left (labels extend rightwards from their line).
 */
export function placeMarkerLabels(markers: readonly MarkerInput[], layout: LabelLayout): PlacedLabel[] {
  const at = markers.map((m) => fraction(m.x, layout.domain));
  const order = at.map((_, i) => i).sort((a, b) => at[a] - at[b]);
  const laneEnds: number[] = [];
  const lanes: (number | null)[] = new Array(markers.length).fill(null);
  for (const i of order) {
    const free = laneEnds.findIndex((end) => at[i] - end >= layout.minGap);
    const lane = free >= 0 ? free : laneEnds.length < layout.maxLanes ? laneEnds.length : null;
    if (lane === null) continue;
    laneEnds[lane] = at[i];
    lanes[i] = lane;
  }
  return markers.map((m, i) => ({ lane: lanes[i], text: abbreviate(m.label, layout.maxChars), full: m.label }));
}
