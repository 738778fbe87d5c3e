/**
 * Uploaded documents → one training text. Each file is read by its format (detect.ts: magic bytes, then name):
 *   PDF       its text layer (pdf.ts, pdf.js)        DOCX  its paragraphs (docx.ts, mammoth)
 *   Markdown  the text without the markup            HTML  the text a reader sees
 *   text      as it is (strict UTF-8)
 * and its text passes the text upload's checks (text.ts): the same size limit, empty and binary refusals.
 * Several files are joined with a blank line between them; a file that fails is reported with its reason and
 * the others are kept, so one bad file loses nothing else.
 */
import { MAX_UPLOAD_BYTES } from '../engine/data/limits';
import { detectFormat, type DocumentFormat } from './detect';
import { docxToText, type MammothLib } from './docx';
import { DocumentError } from './errors';
import { htmlToText, type DomParserLike } from './html';
import { markdownToText } from './markdown';
import { pdfToText, type PdfjsLib } from './pdf';
import { checkDocumentText, checkTextSize, decodeUtf8, plainText } from './text';

export { DocumentError, type DocumentErrorCode } from './errors';
export type { DocumentFormat } from './detect';

/**
 * The largest PDF or DOCX file read (100 MiB): a document's pictures and fonts weigh far more than its text,
 * so the file may be larger than a text upload; the text it holds must still fit MAX_UPLOAD_BYTES.
 */
export const MAX_DOCUMENT_BYTES = 5 * MAX_UPLOAD_BYTES;

/** What the page's file input gives (File, Blob), or bytes with a name (Node, tests). */
export type DocumentInput = Blob | { name: string; bytes: Uint8Array | ArrayBuffer };

export interface ExtractOptions {
  /** pdf.js; by default the page's build (pdfjsBrowser.ts). Node passes pdf.js's legacy build. */
  loadPdfjs?: () => Promise<PdfjsLib>;
  /** mammoth; by default imported on demand. */
  loadMammoth?: () => Promise<MammothLib>;
  /** An HTML parser; by default the browser's DOMParser (Node has none: pass one, e.g. jsdom's). */
  domParser?: DomParserLike;
}

export interface ExtractedDocument {
  name: string;
  format: DocumentFormat;
  text: string;
}

export interface ExtractedFile {
  name: string;
  /** null when the file was refused before its format was known (too large). */
  format: DocumentFormat | null;
  /** Characters (code points) this file gave to the text; 0 when it failed. */
  chars: number;
  error?: DocumentError;
}

export interface ExtractedDocuments {
  /** Every readable file's text, in the order given, separated by a blank line. */
  text: string;
  /** Characters (code points) of `text`. */
  chars: number;
  /** One entry per file given, in order. */
  files: ExtractedFile[];
  /** The failed files' errors (also on their entries). */
  errors: DocumentError[];
}

const MiB = 1024 * 1024;
const SEPARATOR = '\n\n';
const utf8Length = (s: string) => new TextEncoder().encode(s).length;
const charCount = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const defaultPdfjs = async (): Promise<PdfjsLib> => (await import('./pdfjsBrowser')).pdfjs;
const defaultMammoth = async (): Promise<MammothLib> => {
  const m = (await import('mammoth')) as unknown as MammothLib & { default?: MammothLib };
  return m.default ?? m;
};

/** A Blob (or File); anything else is { name, bytes } (a Blob has a bytes() method too, so test for Blob's own). */
const isBlob = (input: DocumentInput): input is Blob => typeof (input as Blob).arrayBuffer === 'function';

function nameOf(input: DocumentInput, index: number): string {
  if (!isBlob(input)) return input.name;
  const name = (input as Blob & { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : `file ${index + 1}`;
}

function sizeOf(input: DocumentInput): number {
  return isBlob(input) ? input.size : input.bytes.byteLength;
}

async function bytesOf(input: DocumentInput): Promise<Uint8Array> {
  if (isBlob(input)) return new Uint8Array(await input.arrayBuffer());
  return input.bytes instanceof Uint8Array ? input.bytes : new Uint8Array(input.bytes);
}

function domParser(opts: ExtractOptions): DomParserLike {
  if (opts.domParser) return opts.domParser;
  if (typeof DOMParser !== 'undefined') return new DOMParser();
  throw new Error('reading HTML needs a DOMParser: none here (outside a browser, pass options.domParser)');
}

/** One file's text, checked; throws a DocumentError saying why there is none. */
export async function extractDocument(input: DocumentInput, opts: ExtractOptions = {}, index = 0): Promise<ExtractedDocument> {
  const name = nameOf(input, index);
  const size = sizeOf(input);
  // Refused unread: nothing this large is read into the tab.
  if (size > MAX_DOCUMENT_BYTES) {
    const mb = (size / MiB).toFixed(1);
    const max = MAX_DOCUMENT_BYTES / MiB;
    const textMax = MAX_UPLOAD_BYTES / MiB;
    throw new DocumentError('documentTooLarge', name, `${name} is ${mb} MB; the limit is ${max} MB for a PDF or Word document (and ${textMax} MB for text).`, {
      name,
      mb,
      max,
      textMax,
    });
  }
  const bytes = await bytesOf(input);
  const format = detectFormat(name, bytes);
  let text: string;
  switch (format) {
    case 'pdf':
      text = await pdfToText(name, bytes, await (opts.loadPdfjs ?? defaultPdfjs)());
      break;
    case 'docx':
      text = await docxToText(name, bytes, await (opts.loadMammoth ?? defaultMammoth)());
      break;
    case 'markdown':
      checkTextSize(name, bytes.length);
      text = markdownToText(checked(name, decodeUtf8(name, bytes)));
      break;
    case 'html':
      checkTextSize(name, bytes.length);
      text = htmlToText(checked(name, decodeUtf8(name, bytes)), domParser(opts));
      break;
    case 'text':
      text = plainText(name, bytes);
      break;
  }
  // The text itself passes the text upload's checks: a document may hold more text than fits a tab, or none.
  if (format === 'pdf' || format === 'docx') checkTextSize(name, utf8Length(text));
  checkDocumentText(name, text);
  return { name, format, text };
}

/** The decoded source of a marked-up file passes the binary checks before its markup is stripped. */
function checked(name: string, source: string): string {
  checkDocumentText(name, source);
  return source;
}

/**
 * Several files → one text (blank line between files), each file's character count, and each failure with
 * its reason. Files are read one at a time (a tab holds one document's bytes at once).
 */
export async function extractDocuments(inputs: readonly DocumentInput[], opts: ExtractOptions = {}): Promise<ExtractedDocuments> {
  const texts: string[] = [];
  const files: ExtractedFile[] = [];
  const errors: DocumentError[] = [];
  let bytes = 0;
  for (let i = 0; i < inputs.length; i++) {
    const name = nameOf(inputs[i], i);
    try {
      const doc = await extractDocument(inputs[i], opts, i);
      const added = utf8Length(doc.text) + (texts.length ? SEPARATOR.length : 0);
      if (bytes + added > MAX_UPLOAD_BYTES) {
        const mb = ((bytes + added) / MiB).toFixed(1);
        const max = MAX_UPLOAD_BYTES / MiB;
        throw new DocumentError(
          'corpusTooLarge',
          name,
          `${name} would take the text to ${mb} MB; the limit is ${max} MB for training in a browser tab (the files before it are kept).`,
          { name, mb, max },
        );
      }
      bytes += added;
      texts.push(doc.text);
      files.push({ name, format: doc.format, chars: charCount(doc.text) });
    } catch (e) {
      // Anything unexpected from a parser is still this file's failure, not the others'.
      const reason = (e as Error)?.message ?? String(e);
      const err = e instanceof DocumentError ? e : new DocumentError('unreadable', name, `${name} could not be read (${reason})`, { name, reason });
      errors.push(err);
      files.push({ name, format: null, chars: 0, error: err });
    }
  }
  const text = texts.join(SEPARATOR);
  return { text, chars: charCount(text), files, errors };
}
