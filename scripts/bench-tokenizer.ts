/**
 * Tokenizer figures: how long training 1,000 BPE merges on Moby-Dick takes (the first run, then the median
 * of the next `--runs`), and how many characters one token holds for the bundled corpora at a few
 * vocabulary sizes (each tokenizer trained on the corpus's first 90 %, measured on its last 10 %).
 *
 *   npm run bench:tokenizer [-- --runs 5]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildDatasets } from './build-datasets';
import { trainBpe, defaultVocabSize } from '../src/engine/tokenizer/bpeTrain';
import { CharTokenizer } from '../src/engine/tokenizer/char';
import { charsPerToken } from '../src/engine/eval/bits';
import { trainingText } from '../src/engine/data/corpus';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(values.runs));
buildDatasets();
const read = (id: string) => readFileSync(`public/datasets/${id}.txt`, 'utf8');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const moby = read('moby-dick');
const times: number[] = [];
let merges = 0;
for (let r = 0; r <= runs; r++) {
  const t0 = performance.now();
  // Moby-Dick is ASCII: 256 byte tokens + 1,000 merges.
  const tok = await trainBpe(moby, { vocabSize: 1256 });
  times.push((performance.now() - t0) / 1000);
  merges = tok.merges.length;
}
console.log(
  `train ${merges} merges on moby-dick (${moby.length.toLocaleString('en')} characters): first run ${times[0].toFixed(2)} s, median of the next ${runs} ${median(times.slice(1)).toFixed(2)} s`,
);

console.log('\ncharacters per token on the last 10 % (tokenizer trained on the first 90 %):');
console.log('corpus        char   ' + ['256', '512', '1024', '2048', '4096', '8192', 'default'].map((s) => s.padStart(12)).join(''));
for (const id of ['moby-dick', 'tang-jueju']) {
  const text = read(id);
  const train = trainingText(text);
  const held = text.slice(train.length);
  const cells: string[] = [];
  for (const size of [256, 512, 1024, 2048, 4096, 8192, defaultVocabSize(train)]) {
    const tok = await trainBpe(train, { vocabSize: size });
    const label = tok.vocabSize === size ? '' : ` (${tok.vocabSize})`;
    cells.push(`${charsPerToken(tok, held).toFixed(2)}${size === defaultVocabSize(train) ? ` @${size}` : label}`.padStart(12));
  }
  console.log(`${id.padEnd(14)}${charsPerToken(CharTokenizer.fromText(train), held).toFixed(2).padStart(5)}  ${cells.join('')}`);
}
