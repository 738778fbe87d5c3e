import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { ISOLATION_HEADERS as isolation, wasmThreads } from './scripts/wasmThreadsPlugin.ts';
import { serviceWorker } from './scripts/serviceWorkerPlugin.ts';

// Cross-origin isolation lets the wasm backend use its threaded build where the machine has cores to spare;
// wasmThreads() makes that build survive bundling.
export default defineConfig({
  // serviceWorker(): dist/sw.js, the offline app that also adds the isolation headers on hosts that cannot (src/sw/sw.js).
  plugins: [react(), wasmThreads(), serviceWorker()],
  // Dev pre-bundles TF.js outside the plugin pipeline: patch it there too.
  optimizeDeps: { rolldownOptions: { plugins: [wasmThreads()] } },
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es', plugins: () => [wasmThreads()] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
