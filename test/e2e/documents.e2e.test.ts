/**
 * Documents as corpora in the production build: a PDF and a DOCX uploaded together become the corpus, each
 * file's character count shown; a PDF without a text layer is refused by name while the other files stay.
 */
import { expect, it } from 'vitest';
import { makeDocx, makePdf } from '../documents/documents';
import { newPage, ready } from './harness';
import { appForFile } from './appForFile';

const app = appForFile();

/** A page of text as PDF drawing operators: one line per `Tj`, ASCII only. */
const page = (lines: string[]) => `BT /F1 12 Tf 72 720 Td 14 TL ${lines.map((l) => `(${l}) Tj T*`).join(' ')} ET`;
const LINES = Array.from({ length: 30 }, (_, i) => `Line ${i + 1} of the logbook: the ship sailed on through calm water`);

it('a PDF and a DOCX uploaded together become the corpus, with each file’s characters; a scanned PDF is named and skipped', async () => {
  const { context, page: p, errors } = await newPage(app, '?backend=wasm');
  try {
    await ready(p);
    const pdf = Buffer.from(makePdf([page(LINES.slice(0, 15)), page(LINES.slice(15))]));
    const docx = Buffer.from(await makeDocx(LINES.map((l) => l.replace('logbook', 'diary'))));
    const scan = Buffer.from(makePdf(['0 0 1 rg 72 72 200 200 re f'])); // a drawing, no text
    await p.setInputFiles('[data-testid=corpus-upload]', [
      { name: 'logbook.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'diary.docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', buffer: docx },
      { name: 'scan.pdf', mimeType: 'application/pdf', buffer: scan },
    ]);
    const files = p.locator('[data-testid=corpus-files] li');
    await files.first().waitFor({ timeout: 60_000 });
    expect(await files.count()).toBe(3);
    expect(await files.nth(0).textContent()).toMatch(/^logbook\.pdf: [\d,]+ characters$/);
    expect(await files.nth(1).textContent()).toMatch(/^diary\.docx: [\d,]+ characters$/);
    expect(await files.nth(2).textContent()).toMatch(/scan\.pdf has no text layer/);
    // The corpus is the two documents' text: the worker describes it, the preview shows the PDF's first line.
    await p.waitForFunction(() => document.querySelector('[data-testid=corpus-info]')?.textContent?.includes('characters'), null, { timeout: 60_000 });
    await p.click('text=Preview');
    expect(await p.locator('.preview').textContent()).toContain('Line 1 of the logbook');
    expect(await p.locator('.preview').textContent()).not.toContain('%PDF');
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 240_000);
