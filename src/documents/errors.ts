/**
 * Why a document gave no text. Each error carries a code and the values of its message, so the page can show
 * it in its own language (the codes `tooLarge` and `notText` are the text upload's own `data.*` messages).
 */
export type DocumentErrorCode =
  | 'tooLarge' // the file (or the text it holds) is over the limit
  | 'corpusTooLarge' // this file's text would take the files' text together over the limit
  | 'notText' // not UTF-8 text (a binary file?)
  | 'badText' // decoded, but empty or binary-looking (checkText's message)
  | 'noText' // a PDF or DOCX that parsed but holds no text
  | 'noTextLayer' // a PDF whose pages have no text layer (a scan)
  | 'encrypted' // a password-protected PDF
  | 'unreadable' // a damaged file, or one that is not what its name says
  | 'unsupported'; // a format we do not read (old .doc, other zips, images…)

export class DocumentError extends Error {
  override name = 'DocumentError';
  constructor(
    readonly code: DocumentErrorCode,
    /** The file's name (every message starts with it). */
    readonly file: string,
    message: string,
    /** The message's values, for translation. */
    readonly params: Record<string, string | number> = {},
  ) {
    super(message);
  }
}
