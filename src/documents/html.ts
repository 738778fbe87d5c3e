/**
 * HTML → the text a reader sees. The page parses with the browser's DOMParser (nothing is fetched or run: a
 * parsed document loads no images and runs no scripts); Node, which has none, is given one (tests pass jsdom's).
 * textContent alone would run paragraphs together, so the tree is walked: block elements and <br> break lines,
 * whitespace collapses as a browser renders it (except in <pre>), and what is never shown (scripts, styles,
 * templates, <head>) is left out.
 */

export interface DomParserLike {
  parseFromString(source: string, type: 'text/html'): Document;
}

/** Elements whose contents a reader never sees. */
const HIDDEN = new Set(['HEAD', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'CANVAS', 'IFRAME', 'OBJECT', 'SELECT', 'BUTTON']);
/** Elements that begin on a new line (a paragraph break after the heavier ones). */
const PARAGRAPH = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'BLOCKQUOTE', 'PRE', 'TABLE', 'UL', 'OL', 'DL', 'FIGURE', 'HR', 'ADDRESS', 'DETAILS']);
const LINE = new Set([
  'DIV',
  'LI',
  'DT',
  'DD',
  'TR',
  'SECTION',
  'ARTICLE',
  'ASIDE',
  'HEADER',
  'FOOTER',
  'NAV',
  'MAIN',
  'FIGCAPTION',
  'CAPTION',
  'SUMMARY',
  'FORM',
  'FIELDSET',
  'LEGEND',
  'BODY',
]);
const CELL = new Set(['TD', 'TH']);

const ELEMENT = 1;
const TEXT = 3;

export function htmlToText(html: string, parser: DomParserLike): string {
  const doc = parser.parseFromString(html, 'text/html');
  // Pieces of text and breaks: a break is '\n' (line) or '\n\n' (paragraph); runs of breaks keep the largest.
  const parts: string[] = [];
  const brk = (b: '\n' | '\n\n') => {
    const last = parts[parts.length - 1];
    if (last === undefined) return; // nothing before: no leading blank lines
    if (last === '\n' || last === '\n\n') parts[parts.length - 1] = last.length >= b.length ? last : b;
    else parts.push(b);
  };
  const walk = (node: Node, pre: boolean) => {
    if (node.nodeType === TEXT) {
      const t = node.nodeValue ?? '';
      if (pre) parts.push(t);
      else {
        // Whitespace collapses to one space, and none at the start of a line.
        const last = parts[parts.length - 1];
        const atLineStart = last === undefined || last.endsWith('\n') || last.endsWith(' ');
        const s = t.replace(/[ \t\n\r\f]+/g, ' ');
        const trimmed = atLineStart ? s.replace(/^ /, '') : s;
        if (trimmed) parts.push(trimmed);
      }
      return;
    }
    if (node.nodeType !== ELEMENT) {
      // The document itself and fragments: walk on; comments and the like: skip.
      if (node.nodeType === 9 || node.nodeType === 11) for (const c of Array.from(node.childNodes)) walk(c, pre);
      return;
    }
    const tag = (node as Element).tagName.toUpperCase();
    if (HIDDEN.has(tag) || (node as Element).hasAttribute('hidden')) return;
    if (tag === 'BR') return void parts.push('\n');
    if (tag === 'IMG') {
      const alt = (node as Element).getAttribute('alt');
      if (alt) parts.push(alt);
      return;
    }
    const kind = PARAGRAPH.has(tag) ? '\n\n' : LINE.has(tag) ? '\n' : null;
    if (kind) brk(kind);
    const last = parts[parts.length - 1];
    if (CELL.has(tag) && last !== undefined && !last.endsWith('\n')) parts.push('\t');
    for (const c of Array.from(node.childNodes)) walk(c, pre || tag === 'PRE' || tag === 'TEXTAREA');
    if (kind) brk(kind);
  };
  walk(doc, false);
  return parts
    .join('')
    .replace(/ +\n/g, '\n') // no trailing spaces
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
