/** Every test file starts on the Node default backend (wasm); suites that cover several switch explicitly. */
import { beforeAll } from 'vitest';
import { useNodeBackend } from '../cli/backend';

beforeAll(() => useNodeBackend('wasm'));
