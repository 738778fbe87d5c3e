/** Every test file starts on the Node default backend (wasm); suites that cover several switch explicitly. */
import { afterAll, beforeAll } from 'vitest';
import { setDefaultCliThreads, useNodeBackend } from '../cli/backend';
import { removeTempDirs } from './tempDir';

// CLI commands run in tests train on one thread, as the tests around them do (see setDefaultCliThreads).
setDefaultCliThreads(1);
beforeAll(() => useNodeBackend('wasm'));
// A test's temporary folders go with its file.
afterAll(removeTempDirs);
