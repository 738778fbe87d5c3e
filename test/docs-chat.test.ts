/**
 * The README's chat page is docs/chat.html, the file test/e2e/transformersjs.e2e.test.ts serves to transformers.js:
 * the README must quote it word for word, so the page people copy is the page that was tested.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

it('the README quotes docs/chat.html, the page the transformers.js test runs, word for word', () => {
  const page = readFileSync('docs/chat.html', 'utf8').trimEnd();
  expect(page.split('\n').length).toBeLessThanOrEqual(13);
  expect(readFileSync('README.md', 'utf8')).toContain(`\`\`\`html\n${page}\n\`\`\``);
});
