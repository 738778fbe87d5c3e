/**
 * Plain text, and the checks every document's text passes: the text upload's own (src/app's loadUploadedText
 * and the CLI's readInput): the size limit, strict UTF-8, then checkText (empty, NUL bytes, control characters).
 */
import { checkText, DataError } from '../engine/data/corpus';
import { MAX_UPLOAD_BYTES } from '../engine/data/limits';
import { DocumentError } from './errors';

const MiB = 1024 * 1024;

/** Refuses `size` bytes of text over the upload limit, with the page's message. */
export function checkTextSize(name: string, size: number): void {
  if (size > MAX_UPLOAD_BYTES) {
    const mb = (size / MiB).toFixed(1);
    const max = MAX_UPLOAD_BYTES / MiB;
    throw new DocumentError('tooLarge', name, `${name} is ${mb} MB; the limit is ${max} MB for training in a browser tab.`, { name, mb, max });
  }
}

/** Strict UTF-8 (a leading byte-order mark dropped), as the text upload decodes. */
export function decodeUtf8(name: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DocumentError('notText', name, `${name} is not UTF-8 text (a binary file?).`, { name });
  }
}

/** checkText's refusals (empty, binary-looking) as document errors, with checkText's own code and values. */
export function checkDocumentText(name: string, text: string): void {
  try {
    checkText(text, name);
  } catch (e) {
    if (e instanceof DataError && e.code) throw new DocumentError(e.code, name, e.message, { ...e.params, name });
    throw e;
  }
}

/** A text file: size-checked before decoding, as the upload is. */
export function plainText(name: string, bytes: Uint8Array): string {
  checkTextSize(name, bytes.length);
  return decodeUtf8(name, bytes);
}
