/**
 * PDF → its text layer, page by page, with pdf.js. Only the text layer: a scanned page is a picture of text
 * and has none (reading it would need OCR), so a PDF whose pages give no text is refused with that reason.
 *
 * pdf.js is passed in (see PdfjsLib): the page loads the build whose worker Vite serves from our own build
 * (pdfjsBrowser.ts), Node loads pdf.js's legacy build, which runs its worker in-process.
 */
import type * as PdfjsModule from 'pdfjs-dist';
import { DocumentError } from './errors';

export type PdfjsLib = Pick<typeof PdfjsModule, 'getDocument'>;

/** The text of one page's items: each item's string, a line break where pdf.js marks one. */
function pageText(items: readonly unknown[]): string {
  let s = '';
  for (const it of items) {
    // Marked-content items (no `str`) only delimit structure.
    if (typeof it !== 'object' || it === null || !('str' in it)) continue;
    const item = it as { str: string; hasEOL?: boolean };
    s += item.str;
    if (item.hasEOL) s += '\n';
  }
  return s.replace(/[ \t]+\n/g, '\n').trim();
}

export async function pdfToText(name: string, bytes: Uint8Array, pdfjs: PdfjsLib): Promise<string> {
  // pdf.js transfers the buffer it is given to its worker (detaching it): give it a copy.
  const task = pdfjs.getDocument({ data: bytes.slice(), isEvalSupported: false, verbosity: 0 });
  let doc;
  try {
    doc = await task.promise;
  } catch (e) {
    const err = e as Error;
    if (err?.name === 'PasswordException') {
      throw new DocumentError('encrypted', name, `${name} is password-protected: open it, save an unprotected copy, and upload that`, { name });
    }
    throw new DocumentError('unreadable', name, `${name} is not a readable PDF (${err?.message ?? String(e)})`, { name, reason: err?.message ?? String(e) });
  }
  try {
    const pages: string[] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      pages.push(pageText((await page.getTextContent()).items));
      page.cleanup();
    }
    const text = pages.filter((t) => t !== '').join('\n\n');
    if (text.trim() === '') {
      const n = doc.numPages;
      throw new DocumentError(
        'noTextLayer',
        name,
        `${name} has no text layer (a scanned document?): its ${n} page${n === 1 ? '' : 's'} hold${n === 1 ? 's' : ''} no selectable text. Run it through OCR first, or upload the text itself.`,
        { name, pages: n },
      );
    }
    return text;
  } finally {
    await doc.destroy();
  }
}
