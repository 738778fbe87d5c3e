/**
 * The app for one test file: `const app = appForFile();` at the top builds and starts it before the file's
 * first test and closes it after the last. The object stands for the started app (its url and browser are
 * read when a test runs).
 */
import { afterAll, beforeAll } from 'vitest';
import { startApp, type App } from './harness';

export function appForFile(): App {
  let app: App | undefined;
  beforeAll(async () => {
    app = await startApp();
  }, 300_000);
  afterAll(async () => {
    await app?.close();
  });
  const started = (): App => {
    if (!app) throw new Error('the app is not started yet: use it inside a test or a hook');
    return app;
  };
  return {
    get url() {
      return started().url;
    },
    get browser() {
      return started().browser;
    },
    close: () => started().close(),
  };
}
