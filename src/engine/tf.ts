/**
 * The engine's one view of TF.js: core ops with chained methods (`x.add(y)`) and every gradient
 * registered, which the `@tensorflow/tfjs` union package sets up in Node and in bundlers alike
 * (tfjs-core's own registration modules are directory imports that Node's ESM loader rejects).
 * Importing it registers the cpu and webgl backends but *chooses* none: each runtime's entry point
 * does that (browser worker: src/worker/backend.ts; Node: cli/backend.ts).
 */
export * from '@tensorflow/tfjs';
