import * as tf from '../src/engine/tf';
import { useNodeBackend } from '../cli/backend';
import { GPT } from '../src/engine/model/gpt';
import { PRESETS } from '../src/engine/model/config';
await useNodeBackend('wasm');
const m = GPT.create({ ...PRESETS.baby, vocabSize: 65 }, 1);
const B=12,T=64;
const idx = tf.tensor2d(Array.from({length:B*T},(_,i)=>i%65),[B,T],'int32');
const y = tf.tensor2d(Array.from({length:B*T},(_,i)=>(i+1)%65),[B,T],'int32');
const vars = [...m.params.values()];
const step = async () => { const {value,grads}=tf.variableGrads(()=>m.loss(idx,y), vars); await value.data(); value.dispose(); tf.dispose(grads); };
await step();await step();
const prof = await tf.profile(step);
const agg = new Map<string,{n:number,ms:number}>();
for (const k of prof.kernels) { const key = k.name==='BatchMatMul'? k.name+JSON.stringify(k.inputShapes):k.name; const a = agg.get(key) ?? {n:0,ms:0}; a.n++; a.ms += (k.kernelTimeMs as number) || 0; agg.set(key,a); }
console.log('kernels', prof.kernels.length, 'total', [...agg.values()].reduce((s,v)=>s+v.ms,0).toFixed(1));
console.log([...agg.entries()].sort((a,b)=>b[1].ms-a[1].ms).slice(0,30).map(([k,v])=>`${k} n=${v.n} ms=${v.ms.toFixed(1)}`).join('\n'));
let t0=performance.now(); for(let i=0;i<5;i++) await step(); console.log('step', (performance.now()-t0)/5);
