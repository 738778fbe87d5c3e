/**
 * Downsample a series for drawing: at most `max` points, each the mean of a bucket of consecutive
 * points (x of the bucket's last point), so long runs stay fast to render and the curve keeps its shape.
 */
export function downsample<T extends Record<string, number>>(points: T[], max: number, x: keyof T & string): T[] {
  if (points.length <= max) return points;
  const size = Math.ceil(points.length / max);
  const out: T[] = [];
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    const mean = {} as Record<string, number>;
    for (const k of Object.keys(bucket[0])) mean[k] = bucket.reduce((a, p) => a + p[k], 0) / bucket.length;
    mean[x] = bucket[bucket.length - 1][x];
    out.push(mean as T);
  }
  return out;
}
