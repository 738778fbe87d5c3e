/**
 * DOCX → its text, with mammoth's extractRawText (paragraphs separated by blank lines; tables, footnotes and
 * the like as text). mammoth is passed in so it loads only when a DOCX is read.
 */
import { DocumentError } from './errors';

export interface MammothLib {
  extractRawText(input: { arrayBuffer?: ArrayBuffer; buffer?: Uint8Array }): Promise<{ value: string; messages: { type: string; message: string }[] }>;
}

export async function docxToText(name: string, bytes: Uint8Array, mammoth: MammothLib): Promise<string> {
  // mammoth's browser build reads `arrayBuffer`, its Node build `buffer`: give both.
  const copy = bytes.slice();
  let result;
  try {
    result = await mammoth.extractRawText({ arrayBuffer: copy.buffer, buffer: copy });
  } catch (e) {
    const reason = (e as Error)?.message ?? String(e);
    throw new DocumentError('unreadable', name, `${name} is not a readable Word document (${reason})`, { name, reason });
  }
  const text = result.value
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (text === '') throw new DocumentError('noText', name, `${name} holds no text (only pictures or empty pages?)`, { name });
  return text;
}
