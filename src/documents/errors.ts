/**
 * Why a document gave no text. Each error carries a code and the values of its message, so the page can show
 * it in its own language: the dictionary's `error.<code>` (src/i18n/i18n.ts must have one for every code here,
 * or it does not compile). A text that decoded but is empty or binary keeps the engine's own code
 * (`textEmpty`, `textNul`, … from checkText) and its values.
 */
import type { EngineErrorCode } from '../engine/errors';

export const DOCUMENT_ERROR_CODES = [
  'tooLarge', // a text file over the upload limit
  'documentTooLarge', // a PDF or Word file over the (larger) document limit
  'corpusTooLarge', // this file's text would take the files' text together over the limit
  'notText', // not UTF-8 text (a binary file?)
  'noText', // a DOCX that parsed but holds no text
  'noTextLayer', // a PDF whose pages have no text layer (a scan)
  'encrypted', // a password-protected PDF
  'unreadable', // a damaged file, or a parser's failure (its reason a parameter)
  'notPdf', // named .pdf, but no PDF header
  'notDocx', // named .docx, but not a Word document
  'oldOffice', // .doc/.xls/.ppt
  'unsupported', // a format we do not read (other zips, images, archives…)
] as const;

export type DocumentErrorCode = (typeof DOCUMENT_ERROR_CODES)[number];

export class DocumentError extends Error {
  override name = 'DocumentError';
  constructor(
    readonly code: DocumentErrorCode | EngineErrorCode,
    /** The file's name (every message starts with it). */
    readonly file: string,
    message: string,
    /** The message's values, for translation. */
    readonly params: Record<string, string | number> = {},
  ) {
    super(message);
  }
}
