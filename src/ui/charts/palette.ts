/**
 * The charts' line colours, in the order they are handed out: twelve that stay apart on a white page and a
 * projector (a lab comparison can hold a dozen strategies before a colour comes round again).
 */
export const COLORS = [
  '#2563eb', // blue
  '#dc2626', // red
  '#16a34a', // green
  '#9333ea', // purple
  '#ea580c', // orange
  '#0891b2', // cyan
  '#ca8a04', // ochre
  '#db2777', // pink
  '#4b5563', // grey
  '#65a30d', // lime
  '#92400e', // brown
  '#1e3a8a', // navy
] as const;
