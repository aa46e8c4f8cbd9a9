/** Where URLs stand in an HTML document: spans of `src`, `href`, `poster` and each `srcset` candidate. */
export interface Span {
  start: number;
  end: number;
}

const URL_ATTRIBUTES = new Set(['src', 'href', 'poster']);
/** Elements whose content is text, not markup: a `<a href>` inside a script string is not a link. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp']);
const isSpace = (c: string | undefined) => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f';

/**
 * The URL spans of an HTML document, found by a tokenizer that follows the HTML syntax for tags,
 * attributes (quoted or not), comments and raw-text elements; it does not build a tree, so it is
 * fast and leaves every other byte of the document as it was.
 */
export function htmlUrlSpans(html: string): Span[] {
  const spans: Span[] = [];
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf('<', i);
    if (open === -1) break;
    if (html.startsWith('<!--', open)) {
      const close = html.indexOf('-->', open + 4);
      i = close === -1 ? html.length : close + 3;
      continue;
    }
    const next = html[open + 1] ?? '';
    if (!/[a-zA-Z]/.test(next)) {
      if (next === '/' || next === '!' || next === '?') {
        // </end>, <!doctype>, <?xml?>: nothing to rewrite in them.
        const close = html.indexOf('>', open + 1);
        i = close === -1 ? html.length : close + 1;
      } else i = open + 1; // a '<' in text
      continue;
    }
    let p = open + 1;
    while (p < html.length && !isSpace(html[p]) && html[p] !== '>' && html[p] !== '/') p++;
    const tag = html.slice(open + 1, p).toLowerCase();
    p = readAttributes(html, p, spans);
    i = p;
    if (RAW_TEXT.has(tag)) {
      const end = new RegExp(`</${tag}`, 'gi');
      end.lastIndex = p;
      i = end.exec(html)?.index ?? html.length;
    }
  }
  return spans;
}

/** Reads the attributes of a start tag from `p`; returns the position after its `>`. */
function readAttributes(html: string, p: number, spans: Span[]): number {
  for (;;) {
    while (p < html.length && (isSpace(html[p]) || html[p] === '/')) p++;
    if (p >= html.length) return p;
    if (html[p] === '>') return p + 1;
    const nameStart = p;
    // An attribute name may begin with '=' (the spec allows it); it ends at space, '/', '>' or '='.
    p++;
    while (p < html.length && !isSpace(html[p]) && html[p] !== '/' && html[p] !== '>' && html[p] !== '=') p++;
    const name = html.slice(nameStart, p).toLowerCase();
    while (isSpace(html[p])) p++;
    if (html[p] !== '=') continue;
    p++;
    while (isSpace(html[p])) p++;
    let start = p;
    let end: number;
    const quote = html[p];
    if (quote === '"' || quote === "'") {
      start = p + 1;
      end = html.indexOf(quote, start);
      if (end === -1) end = html.length;
      p = Math.min(html.length, end + 1);
    } else {
      while (p < html.length && !isSpace(html[p]) && html[p] !== '>') p++;
      end = p;
    }
    if (URL_ATTRIBUTES.has(name)) spans.push(trim(html, start, end));
    else if (name === 'srcset') for (const span of srcsetSpans(html, start, end)) spans.push(span);
  }
}

function trim(text: string, start: number, end: number): Span {
  while (start < end && isSpace(text[start])) start++;
  while (end > start && isSpace(text[end - 1])) end--;
  return { start, end };
}

/**
 * The URL of each image candidate in a `srcset` value (HTML "parse a srcset attribute"): a run of
 * non-space characters, trailing commas being separators, then descriptors up to the next comma.
 */
export function srcsetSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  let p = start;
  while (p < end) {
    while (p < end && (isSpace(text[p]) || text[p] === ',')) p++;
    if (p >= end) break;
    const urlStart = p;
    while (p < end && !isSpace(text[p])) p++;
    let urlEnd = p;
    if (text[urlEnd - 1] === ',') {
      while (urlEnd > urlStart && text[urlEnd - 1] === ',') urlEnd--;
      spans.push({ start: urlStart, end: urlEnd });
      continue;
    }
    spans.push({ start: urlStart, end: urlEnd });
    let depth = 0;
    while (p < end && !(text[p] === ',' && depth === 0)) {
      if (text[p] === '(') depth++;
      else if (text[p] === ')' && depth > 0) depth--;
      p++;
    }
  }
  return spans.filter((s) => s.end > s.start);
}
