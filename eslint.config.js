/**
 * ESLint: the recommended rules of ESLint and typescript-eslint everywhere, React's hooks rules where React
 * is (the page's components and hooks). Formatting is not ESLint's job here.
 *
 * Lint is syntactic (no type information): the type checker (`tsc --noEmit`, strict, noUnused*) already
 * runs on every file, and typed linting would type-check the project a second time.
 */
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Built or generated output, and the service worker (plain JavaScript copied as it is into the build).
  { ignores: ['dist/', 'public/', 'node_modules/', 'test-results/', 'bench-results/', 'src/sw/sw.js', 'src/engine/ops/kernels/*.wasm.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // The page, its worker, the CLI, scripts and tests run in browsers, workers and Node.
    languageOptions: { globals: { ...globals.browser, ...globals.worker, ...globals.node } },
    rules: {
      // `_name` marks a value left unused on purpose (a destructured field dropped, a callback's position), as
      // the type checker's noUnusedLocals/noUnusedParameters allow.
      // A destructuring where some names are reassigned (`let [q, k, v]`, k and v grown by a cache) stays one `let`.
      'prefer-const': ['error', { destructuring: 'all' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Hooks are React's: outside React (the CLI's useNodeBackend chooses a TF.js backend) the name means nothing.
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx', 'test/ui/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
);
