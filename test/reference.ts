/**
 * An independent float64 GPT forward pass in plain loops, written from nanoGPT's model.py, used to
 * check the TF.js model numerically. Deliberately naive: no shared code with src/engine/model.
 */
export type Weights = Record<string, { data: Float64Array; shape: number[] }>;

export interface RefConfig {
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  bias: boolean;
}

function erf(x: number): number {
  // Taylor series for |x| < 3, continued-fraction-free asymptotic tail beyond: accurate to ~1e-12 here.
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a > 5.5) return sign;
  let sum = 0;
  let term = a;
  for (let n = 0; n < 200; n++) {
    const t = term / (2 * n + 1);
    sum += t;
    term *= (-a * a) / (n + 1);
    if (Math.abs(t) < 1e-17) break;
  }
  return (sign * 2 * sum) / Math.sqrt(Math.PI);
}

/** x: rows × in, w: out × in (PyTorch layout) → rows × out */
function linear(x: number[][], w: { data: Float64Array; shape: number[] }, b?: { data: Float64Array }): number[][] {
  const [out, inp] = w.shape;
  return x.map((row) => {
    const y = new Array<number>(out).fill(0);
    for (let o = 0; o < out; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < inp; i++) s += row[i] * w.data[o * inp + i];
      y[o] = s;
    }
    return y;
  });
}

function layerNorm(x: number[][], w: Float64Array, b?: Float64Array): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    const inv = 1 / Math.sqrt(variance + 1e-5);
    return row.map((v, i) => (v - mean) * inv * w[i] + (b ? b[i] : 0));
  });
}

/** Logits for one sequence of token ids: T × V. */
/** `attention`, when given, receives each layer's weights as [head][query][key] (0 above the diagonal). */
export function referenceLogits(cfg: RefConfig, W: Weights, ids: number[], attention?: number[][][][]): number[][] {
  const C = cfg.nEmbd;
  const T = ids.length;
  const hs = C / cfg.nHead;
  const get = (n: string) => W[n];
  let x: number[][] = ids.map((id, t) =>
    Array.from({ length: C }, (_, c) => get('transformer.wte.weight').data[id * C + c] + get('transformer.wpe.weight').data[t * C + c]),
  );
  for (let l = 0; l < cfg.nLayer; l++) {
    const h = `transformer.h.${l}`;
    const bias = (n: string) => (cfg.bias ? get(n) : undefined);
    const a = layerNorm(x, get(`${h}.ln_1.weight`).data, bias(`${h}.ln_1.bias`)?.data);
    const qkv = linear(a, get(`${h}.attn.c_attn.weight`), bias(`${h}.attn.c_attn.bias`));
    const y: number[][] = Array.from({ length: T }, () => new Array<number>(C).fill(0));
    const layerAtt = Array.from({ length: cfg.nHead }, () => Array.from({ length: T }, () => new Array<number>(T).fill(0)));
    attention?.push(layerAtt);
    for (let head = 0; head < cfg.nHead; head++) {
      for (let i = 0; i < T; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let d = 0; d < hs; d++) s += qkv[i][head * hs + d] * qkv[j][C + head * hs + d];
          scores.push(s / Math.sqrt(hs));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((p, v) => p + v, 0);
        for (let j = 0; j <= i; j++) {
          layerAtt[head][i][j] = e[j] / z;
          for (let d = 0; d < hs; d++) y[i][head * hs + d] += (e[j] / z) * qkv[j][2 * C + head * hs + d];
        }
      }
    }
    const attnOut = linear(y, get(`${h}.attn.c_proj.weight`), bias(`${h}.attn.c_proj.bias`));
    x = x.map((row, t) => row.map((v, c) => v + attnOut[t][c]));
    const m = layerNorm(x, get(`${h}.ln_2.weight`).data, bias(`${h}.ln_2.bias`)?.data);
    const f = linear(m, get(`${h}.mlp.c_fc.weight`), bias(`${h}.mlp.c_fc.bias`)).map((row) => row.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
    const mlpOut = linear(f, get(`${h}.mlp.c_proj.weight`), bias(`${h}.mlp.c_proj.bias`));
    x = x.map((row, t) => row.map((v, c) => v + mlpOut[t][c]));
  }
  x = layerNorm(x, get('transformer.ln_f.weight').data, cfg.bias ? get('transformer.ln_f.bias').data : undefined);
  return linear(x, get('transformer.wte.weight'));
}

/** Mean next-token cross-entropy over all positions of several sequences. */
export function referenceLoss(cfg: RefConfig, W: Weights, xs: number[][], ys: number[][]): number {
  let total = 0;
  let n = 0;
  xs.forEach((ids, b) => {
    const logits = referenceLogits(cfg, W, ids);
    logits.forEach((row, t) => {
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      total += lse - row[ys[b][t]];
      n++;
    });
  });
  return total / n;
}
