/**
 * Documents as corpora: each format's text, the scanned-PDF message, several files at once, and the text
 * upload's refusals (empty, binary, not UTF-8, oversized), all on files the tests write themselves.
 */
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { MAX_UPLOAD_BYTES } from '../../src/engine/data/limits';
import { DocumentError, extractDocument, extractDocuments, MAX_DOCUMENT_BYTES, type ExtractOptions } from '../../src/documents/extract';
import { markdownToText } from '../../src/documents/markdown';
import { makeDocx, makePdf } from './documents';

// Node: pdf.js's legacy build (its worker runs in-process) and jsdom's DOMParser stand in for the page's.
const opts: ExtractOptions = {
  loadPdfjs: () => import('pdfjs-dist/legacy/build/pdf.mjs'),
  domParser: new new JSDOM('').window.DOMParser(),
};
const enc = (s: string) => new TextEncoder().encode(s);
const file = (name: string, content: string | Uint8Array) => ({ name, bytes: typeof content === 'string' ? enc(content) : content });

/** The DocumentError a read throws (fails the test if it reads). */
async function refusal(name: string, content: string | Uint8Array): Promise<DocumentError> {
  const e = await extractDocument(file(name, content), opts).then(
    (d) => new Error(`read ${JSON.stringify(d.text.slice(0, 80))}`),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DocumentError);
  return e as DocumentError;
}

const TWO_PAGES = makePdf([
  'BT /F1 24 Tf 72 720 Td (Call me Ishmael.) Tj 0 -30 Td (Some years ago \\(never mind how long\\)) Tj ET',
  'BT /F1 12 Tf 72 720 Td (The second page.) Tj ET',
]);

describe('PDF', () => {
  it('reads the text layer, line by line and page by page', async () => {
    const doc = await extractDocument(file('moby.pdf', TWO_PAGES), opts);
    expect(doc.format).toBe('pdf');
    expect(doc.text).toBe('Call me Ishmael.\nSome years ago (never mind how long)\n\nThe second page.');
  });

  it('is told by its magic bytes, whatever its name', async () => {
    expect((await extractDocument(file('notes.txt', TWO_PAGES), opts)).format).toBe('pdf');
  });

  it('a PDF with only drawings (a scan has only pictures) has no text layer, and says so', async () => {
    const e = await refusal('scan.pdf', makePdf(['0.5 g 72 72 468 648 re f', '1 0 0 RG 72 72 m 540 720 l S']));
    expect(e.code).toBe('noTextLayer');
    expect(e.message).toMatch(/^scan\.pdf has no text layer \(a scanned document\?\): its 2 pages hold no selectable text/);
  });

  it('a damaged PDF, or a file named .pdf that is none, is refused with the reason', async () => {
    const damaged = await refusal('broken.pdf', enc('%PDF-1.4\n1 0 obj\n<< /Type /Catalog'));
    expect(damaged.code).toBe('unreadable');
    expect(damaged.message).toMatch(/^broken\.pdf is not a readable PDF \(/);
    const fake = await refusal('fake.pdf', 'just text, honestly');
    expect(fake.message).toBe('fake.pdf is named .pdf but is not a PDF (no %PDF- header)');
  });
});

describe('DOCX', () => {
  it('reads the paragraphs, runs joined, a blank line between paragraphs', async () => {
    const bytes = await makeDocx([['It was the best ', 'of times', ', it was the worst of times.'], 'Ünïcödé & <angle> “quotes” 中文.']);
    const doc = await extractDocument(file('tale.docx', bytes), opts);
    expect(doc.format).toBe('docx');
    expect(doc.text).toBe('It was the best of times, it was the worst of times.\n\nÜnïcödé & <angle> “quotes” 中文.');
  });

  it('a DOCX with no text, a zip that is no Word document, and an old .doc are refused', async () => {
    expect((await refusal('blank.docx', await makeDocx(['', '']))).code).toBe('noText');
    const { default: JSZip } = await import('jszip');
    const zip = new JSZip();
    zip.file('hello.txt', 'hi');
    const other = await zip.generateAsync({ type: 'uint8array' });
    expect((await refusal('archive.zip', other)).message).toMatch(/^archive\.zip is a zip archive, not a document we read/);
    expect((await refusal('renamed.docx', other)).message).toMatch(/^renamed\.docx is named \.docx but holds no word\/document\.xml/);
    const ole = new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    expect((await refusal('old.doc', ole)).message).toMatch(/^old\.doc is an old Office file .* save it as \.docx or PDF first/);
  });
});

describe('HTML', () => {
  const page = `<!DOCTYPE html><html><head><title>Not shown</title><style>p { color: red }</style></head>
    <body><script>alert("no")</script>
      <h1>A   heading</h1>
      <p>First    paragraph,
         <b>bold</b> and <a href="x">a link</a>.<br>After a break.</p>
      <ul><li>one</li><li>two</li></ul>
      <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
      <pre>  keep   its
    spacing</pre>
      <p hidden>hidden</p><!-- a comment --><img alt="a picture">
    </body></html>`;

  it('keeps the text a reader sees, with paragraph and line breaks', async () => {
    const doc = await extractDocument(file('page.html', page), opts);
    expect(doc.format).toBe('html');
    expect(doc.text).toBe('A heading\n\nFirst paragraph, bold and a link.\nAfter a break.\n\none\ntwo\n\na\tb\n1\t2\n\n  keep   its\n    spacing\n\na picture');
  });

  it('an HTML page is told by its first characters when its name does not say', async () => {
    expect((await extractDocument(file('saved', '<!doctype html><p>Hello there.</p>'), opts)).text).toBe('Hello there.');
  });
});

describe('Markdown', () => {
  it('keeps the words and drops the markup', async () => {
    const md = [
      '---',
      'title: front matter',
      '---',
      '# The *Title* #',
      '',
      'Some **bold**, _em_ and `code *as is*`, a [link](http://x.org "t"), ![a picture](p.png), snake_case, 2*3*4, \\*literal\\*.',
      '',
      '- one',
      '1. two',
      '- [x] done',
      '',
      '> quoted',
      '',
      '```python',
      'print("**not bold**")',
      '```',
      '',
      '| a | b |',
      '|---|:-:|',
      '| 1 | 2 |',
      '',
      '***',
      '[x]: http://x.org',
      '<!-- a comment -->',
      'Setext heading',
      '==============',
      '中文 and 😀.',
    ].join('\r\n');
    const doc = await extractDocument(file('notes.md', md), opts);
    expect(doc.format).toBe('markdown');
    expect(doc.text).toBe(
      'The Title\n\nSome bold, em and code *as is*, a link, a picture, snake_case, 2*3*4, *literal*.\n\none\ntwo\ndone\n\nquoted\n\nprint("**not bold**")\n\na\tb\n1\t2\n\nSetext heading\n中文 and 😀.',
    );
  });

  it('plain prose passes through unchanged', () => {
    const prose = 'It is a truth universally acknowledged.\n\nHowever little known the feelings or views of such a man may be.';
    expect(markdownToText(prose)).toBe(prose);
  });
});

describe('several files at once', () => {
  it('joins the readable ones with a blank line, counts each file’s characters, and reports each failure', async () => {
    const docx = await makeDocx(['From Word.']);
    const result = await extractDocuments(
      [
        file('a.pdf', TWO_PAGES),
        new File([docx as BlobPart], 'b.docx'),
        file('scan.pdf', makePdf(['0 0 100 100 re f'])),
        file('c.md', '## Notes\n\n*Chinese*: 中文'),
        file('empty.txt', '  \n '),
        new Blob([enc('A blob has no name.')]),
      ],
      opts,
    );
    const pdfText = 'Call me Ishmael.\nSome years ago (never mind how long)\n\nThe second page.';
    expect(result.text).toBe([pdfText, 'From Word.', 'Notes\n\nChinese: 中文', 'A blob has no name.'].join('\n\n'));
    expect(result.chars).toBe([...result.text].length);
    expect(result.files.map((f) => [f.name, f.format, f.chars, f.error?.code ?? null])).toEqual([
      ['a.pdf', 'pdf', pdfText.length, null],
      ['b.docx', 'docx', 10, null],
      ['scan.pdf', null, 0, 'noTextLayer'],
      ['c.md', 'markdown', 'Notes\n\nChinese: 中文'.length, null],
      ['empty.txt', null, 0, 'textEmpty'],
      ['file 6', 'text', 19, null],
    ]);
    expect(result.errors.map((e) => e.file)).toEqual(['scan.pdf', 'empty.txt']);
  });

  it('a file that would take the text over the limit is refused and the files before it are kept', async () => {
    const half = 'a'.repeat(MAX_UPLOAD_BYTES / 2 + 10);
    const result = await extractDocuments([file('one.txt', half), file('two.txt', half), file('three.txt', 'short')], opts);
    expect(result.text).toBe(`${half}\n\nshort`);
    expect(result.files.map((f) => f.error?.code ?? 'ok')).toEqual(['ok', 'corpusTooLarge', 'ok']);
    expect(result.errors[0].message).toMatch(/^two\.txt would take the text to 20\.0 MB; the limit is 20 MB for training in a browser tab/);
  });
});

describe('the text upload’s refusals', () => {
  it('empty, NUL bytes, control characters, invalid UTF-8', async () => {
    expect((await refusal('empty.txt', '')).message).toBe('empty.txt is empty');
    expect((await refusal('blank.md', '<!-- only a comment -->\n')).message).toBe('blank.md is empty');
    expect((await refusal('nul.txt', 'text\u0000more')).message).toMatch(/^nul\.txt looks binary \(it contains NUL bytes, the first at character \d+\)/);
    // checkText's own codes and values, so the page can say them in its language.
    const ctrl = await refusal('ctrl.html', '<p>' + '\u0001'.repeat(50) + 'x'.repeat(100) + '</p>');
    expect([ctrl.code, ctrl.params]).toEqual(['textControl', { what: 'ctrl.html', from: 1, to: 157, count: 50, name: 'ctrl.html' }]);
    expect((await refusal('empty.txt', '')).code).toBe('textEmpty');
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72]); // "café noir" in Latin-1
    const e = await refusal('latin1.txt', latin1);
    expect([e.code, e.message]).toEqual(['notText', 'latin1.txt is not UTF-8 text (a binary file?).']);
    expect((await refusal('photo.txt', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]))).message).toMatch(/^photo\.txt is a PNG image, not text/);
  });

  it('text over the upload limit is refused unread, as the text upload refuses it', async () => {
    const big = new Uint8Array(MAX_UPLOAD_BYTES + 1).fill(0x61);
    const e = await refusal('big.txt', big);
    expect([e.code, e.message]).toEqual(['tooLarge', 'big.txt is 20.0 MB; the limit is 20 MB for training in a browser tab.']);
    expect((await refusal('big.md', big)).code).toBe('tooLarge');
  });

  it('a PDF or DOCX over the document limit is refused before it is read', async () => {
    const e = await refusal('huge.pdf', new Uint8Array(MAX_DOCUMENT_BYTES + 1));
    expect(e.code).toBe('documentTooLarge');
    expect(e.message).toBe('huge.pdf is 100.0 MB; the limit is 100 MB for a PDF or Word document (and 20 MB for text).');
  });

  it('a document whose text is over the upload limit is refused', async () => {
    // A Word file with 20 MiB + 1 KiB of text: the file fits the document limit, its text does not.
    const e = await refusal('long.docx', await makeDocx(['x'.repeat(MAX_UPLOAD_BYTES + 1024)]));
    expect(e.code).toBe('tooLarge');
    expect(e.message).toBe('long.docx is 20.0 MB; the limit is 20 MB for training in a browser tab.');
  });
});
