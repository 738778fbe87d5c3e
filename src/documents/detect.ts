/**
 * Which reader a file needs: by its magic bytes first (a PDF renamed .txt is still a PDF), then by its extension
 * (Markdown and HTML are text, and only their name or first characters tell them apart).
 */
import { DocumentError } from './errors';

export type DocumentFormat = 'pdf' | 'docx' | 'markdown' | 'html' | 'text';

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));
const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]; // old .doc/.xls/.ppt
/** Formats people may drop by mistake, named so the refusal says what the file is. */
const KNOWN_BINARY: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x1f, 0x8b], 'a gzip archive'],
  [[0x7b, 0x5c, 0x72, 0x74, 0x66], 'an RTF document'], // {\rtf
];

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The zip holds a Word document: its local headers name word/document.xml. */
function isDocxZip(bytes: Uint8Array): boolean {
  const needle = 'word/document.xml';
  // The entry names are ASCII; a latin1 view finds them without unzipping. Local headers come first and the
  // central directory (every name) last, so the two ends of the file suffice however large it is.
  const latin1 = new TextDecoder('latin1');
  const head = latin1.decode(bytes.subarray(0, 65536));
  const tail = latin1.decode(bytes.subarray(Math.max(0, bytes.length - 262144)));
  return head.includes(needle) || tail.includes(needle);
}

export function detectFormat(name: string, bytes: Uint8Array): DocumentFormat {
  const ext = extensionOf(name);
  // The PDF header may follow up to 1 KiB of junk (PDF 32000-1, annex H).
  if (ascii(bytes, 0, 1024).includes('%PDF-')) return 'pdf';
  if (ext === 'pdf') throw new DocumentError('notPdf', name, `${name} is named .pdf but is not a PDF (no %PDF- header)`, { name });
  if (startsWith(bytes, ZIP)) {
    if (isDocxZip(bytes)) return 'docx';
    if (ext === 'docx') throw new DocumentError('notDocx', name, `${name} is named .docx but holds no word/document.xml: not a Word document`, { name });
    throw new DocumentError('unsupported', name, `${name} is a zip archive, not a document we read: use PDF, DOCX, Markdown, HTML or plain text`, { name });
  }
  if (ext === 'docx') throw new DocumentError('notDocx', name, `${name} is named .docx but is not a Word document (not a zip archive)`, { name });
  if (startsWith(bytes, OLE)) {
    throw new DocumentError('oldOffice', name, `${name} is an old Office file (.doc/.xls/.ppt): save it as .docx or PDF first`, { name });
  }
  for (const [magic, what] of KNOWN_BINARY) {
    if (startsWith(bytes, magic))
      throw new DocumentError('unsupported', name, `${name} is ${what}, not text: use PDF, DOCX, Markdown, HTML or plain text`, { name });
  }
  if (['md', 'markdown', 'mdown', 'mkd', 'mkdn'].includes(ext)) return 'markdown';
  if (['html', 'htm', 'xhtml'].includes(ext)) return 'html';
  // A text file without a telling name: an HTML page announces itself in its first characters.
  const head = ascii(bytes, 0, 512)
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'html';
  return 'text';
}
