import { describe, expect, it } from 'vitest';
import { csvOf, metricsColumns, metricsCsv, metricsRows, type Column, type CsvRun, type MetricsRow } from '../../src/ui/charts/metricsCsv';

/** A CSV line's fields (quoted fields may hold commas and doubled quotes). */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  return [...out, cur];
}

const RUN: CsvRun = {
  name: 'run "a", 1',
  phase: 'pretrain',
  points: [{ globalStep: 1, step: 0, loss: Math.log(2), lr: 0.001, tokensPerSec: 1000, gradNorm: 1.5 }],
  evals: [{ globalStep: 1, step: 0, losses: { val: 4.1 }, accuracy: { val: 0.25 } }],
  diagnostics: [{ globalStep: 1, weightNorms: { embeddings: 3, ln_f: 1 }, tensors: 40, bytes: 1024 }],
  charsPerToken: { train: 2, val: 4 },
};

describe('metrics CSV', () => {
  it('exports every step, evaluation and diagnostics sample as CSV', () => {
    const csv = metricsCsv([RUN]).trim().split('\n');
    const bpc = 4.1 / (4 * Math.LN2); // loss · tokens / (chars · ln 2), at 4 characters per token
    expect(csv[0]).toBe(
      'run,phase,kind,global_step,step,loss,lr,tokens_per_sec,eval_val,grad_norm,perplexity,accuracy_val,tensors,bytes,weight_norm_embeddings,weight_norm_ln_f,bpc_val',
    );
    expect(csv[1]).toBe(`"run ""a"", 1",pretrain,step,1,0,${Math.log(2)},0.001,1000.0,,1.5,2,,,,,,`);
    expect(csv[2]).toBe(`"run ""a"", 1",pretrain,eval,1,0,,,,4.1,,,0.25,,,,,${bpc}`);
    expect(csv[3]).toBe('"run ""a"", 1",pretrain,diagnostics,1,,,,,,,,,40,1024,3,1,');
  });
  it('gives every row every column: a column added anywhere lands in the same place in every kind of row', () => {
    const runs: CsvRun[] = [RUN, { ...RUN, name: 'b', phase: 'finetune', evals: [{ globalStep: 2, step: 1, losses: { pairs_val: 2, corpus_val: 3 } }] }];
    const columns = metricsColumns(runs);
    const rows = metricsRows(runs);
    const before = csvOf(columns, rows).trim().split('\n').map(fields);
    expect(new Set(before.map((r) => r.length))).toEqual(new Set([columns.length]));
    // A new column in the middle: each row gains exactly its cell there, the others keep their places.
    const extra: Column<MetricsRow> = { header: 'new', cell: (r) => `${r.kind}-${r.run.name.length}` };
    const at = 6;
    const after = csvOf([...columns.slice(0, at), extra, ...columns.slice(at)], rows)
      .trim()
      .split('\n')
      .map(fields);
    expect(after[0][at]).toBe('new');
    after.slice(1).forEach((r, i) => {
      expect(r[at]).toBe(`${rows[i].kind}-${rows[i].run.name.length}`);
      expect([...r.slice(0, at), ...r.slice(at + 1)]).toEqual(before[i + 1]);
    });
  });
  it('names each column once', () => {
    const headers = metricsColumns([RUN]).map((c) => c.header);
    expect(new Set(headers).size).toBe(headers.length);
  });
});
