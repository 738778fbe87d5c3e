/** Node backends every engine test runs on. */
export { NODE_BACKENDS as TEST_BACKENDS, useNodeBackend } from '../cli/backend';
