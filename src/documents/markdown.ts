/**
 * Markdown → the text a reader sees: the words stay, the markup goes. Line by line, with no Markdown library:
 * headings, lists and quotes lose their markers, links and images keep their text, emphasis and code lose their
 * delimiters, code blocks keep their code, tables keep their cells, and what a reader never sees (front matter,
 * HTML comments and tags, link definitions, rules, fence lines) is dropped. Paragraph breaks are kept.
 */

/** Inline markup of one line: links, images, emphasis, code spans, tags, escapes. */
function inline(line: string): string {
  // Code spans and backslash escapes first: they are literal (no emphasis or links inside), so they wait
  // behind placeholders while the rest is stripped.
  const spans: string[] = [];
  const hold = (literal: string) => `\u0000${spans.push(literal) - 1}\u0000`;
  let s = line
    .replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code: string) => hold(code.trim()))
    .replace(/\\([\\`*_{}[\]()#+\-.!|>~<"'])/g, (_, ch: string) => hold(ch));
  s = s
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // ![alt](src) → alt
    .replace(/!\[([^\]]*)\]\[[^\]]*\]/g, '$1') // ![alt][ref] → alt
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1') // [text](url) → text
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1') // [text][ref] → text
    .replace(/<(https?:\/\/[^>\s]+|[^>\s@]+@[^>\s]+)>/g, '$1') // <autolink> → the address
    .replace(/<\/?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?\/?>/g, '') // inline HTML tags
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2') // **strong**, __strong__
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?!\w)/g, '$1$2') // *em*
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, '$1$2') // _em_ (never inside snake_case words)
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1'); // ~~strike~~
  // NUL marks the code spans set aside above: a character no text that passed checkText can hold.
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => spans[Number(i)]);
}

export function markdownToText(markdown: string): string {
  let src = markdown.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  // YAML front matter (--- … --- at the very top) is metadata, not text.
  src = src.replace(/^---\n[\s\S]*?\n(---|\.\.\.)\n/, '');
  src = src.replace(/<!--[\s\S]*?-->/g, '');
  const out: string[] = [];
  let fence: string | null = null;
  for (const raw of src.split('\n')) {
    if (fence !== null) {
      // Inside a fenced code block: the code is text, the closing fence is not.
      if (raw.trimStart().startsWith(fence) && raw.trim().replace(new RegExp(`^${fence[0] === '`' ? '`' : '~'}+`), '') === '') fence = null;
      else out.push(raw);
      continue;
    }
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(raw);
    if (open) {
      fence = open[1];
      continue;
    }
    let line = raw;
    if (/^\s{0,3}\[[^\]]+\]:\s*\S+/.test(line)) continue; // [ref]: url "title"
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) continue; // --- *** ___ rules
    if (/^\s{0,3}(=+|-+)\s*$/.test(line) && out.length && out[out.length - 1].trim() !== '') continue; // setext underline
    if (line.includes('|') && /^[\s|:-]*-[\s|:-]*$/.test(line)) continue; // table separator row |---|:-:|
    line = line.replace(/^(\s{0,3}>\s?)+/, ''); // > quotes
    line = line.replace(/^\s{0,3}#{1,6}(\s+|$)/, '').replace(/\s+#+\s*$/, ''); // # headings (and closing #s)
    line = line.replace(/^(\s*)([-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?/, '$1'); // list markers, task boxes
    if (/^\s*\|.*\|\s*$/.test(line)) {
      // A table row: its cells, separated by tabs.
      line = line
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim())
        .join('\t');
    }
    out.push(inline(line).replace(/[ \t]+$/, ''));
  }
  // At most one blank line between paragraphs; no blank lines at either end.
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}
