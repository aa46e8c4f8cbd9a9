import { posix } from 'node:path';
import { init as initLexer, parse as parseModule } from 'es-module-lexer';
import { htmlUrlSpans } from './html.js';

/** How a rewritten URL is written back: bare in CSS `url()` when it can be, quoted otherwise, or as is. */
export type ReferenceContext = 'css-url' | 'css-string' | 'raw';

export interface Reference {
  /** The referenced asset, relative to inputDir. */
  target: string;
  /** The URL as written in the source. */
  spec: string;
  context: ReferenceContext;
}

/**
 * A text output with holes where references to other assets go (`parts[0] ref[0] parts[1] …`):
 * the holes are filled once the referenced assets' final names are known.
 */
export interface Template {
  parts: string[];
  references: Reference[];
}

/** Splits `a/b.png?x#y` into the path and the query/fragment that follows it. */
function splitSpec(spec: string): { path: string; suffix: string } {
  const cut = spec.search(/[?#]/);
  return cut === -1 ? { path: spec, suffix: '' } : { path: spec.slice(0, cut), suffix: spec.slice(cut) };
}

/**
 * The asset a URL points to, or undefined for URLs outside the site (other origins, `data:`,
 * fragments, bare module specifiers, missing files). Relative URLs resolve against the referencing
 * file, root-relative ones (`/img/a.png`) against inputDir.
 */
export function resolveReference(
  spec: string,
  from: string,
  known: ReadonlySet<string>,
  { moduleSpecifier = false } = {},
): string | undefined {
  if (spec === '' || spec.startsWith('#') || spec.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(spec))
    return undefined;
  // In JS a specifier that is not ./, ../ or / names a package.
  if (moduleSpecifier && !/^\.{0,2}\//.test(spec)) return undefined;
  let path = splitSpec(spec).path;
  try {
    path = decodeURIComponent(path);
  } catch {
    // A stray '%': use the path as written.
  }
  const target = path.startsWith('/')
    ? posix.normalize(path.slice(1))
    : posix.join(posix.dirname(from), path);
  return known.has(target) ? target : undefined;
}

/** Percent-encodes what could end a URL early in CSS, HTML or a JS string; keeps the rest readable. */
const encodeName = (name: string) =>
  name.replace(/[^A-Za-z0-9\-._~!$&+,;=:@]/gu, (c) => encodeURIComponent(c));

/**
 * The URL `spec` rewritten to point at `published` (the target's cache-busted name: hashed, or
 * with `?v=`): same directory part as written, new file name, the written query/fragment kept.
 */
export function rewriteSpec(spec: string, published: string): string {
  const { path, suffix } = splitSpec(spec);
  const target = splitSpec(published);
  const directory = path.slice(0, path.lastIndexOf('/') + 1);
  const query = target.suffix;
  const tail = !query ? suffix : suffix.startsWith('?') ? `${query}&${suffix.slice(1)}` : `${query}${suffix}`;
  return `${directory}${encodeName(posix.basename(target.path))}${tail}`;
}

function formatUrl(url: string, context: ReferenceContext): string {
  // A bare url() may hold anything but whitespace, quotes, parentheses and backslashes (as lightningcss prints it).
  if (context === 'raw' || (context === 'css-url' && /^[^\s"'()\\]+$/.test(url))) return url;
  return `"${url.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\a ' : `\\${c}`))}"`;
}

/** Fills a template's holes with `urlFor(reference)`. */
export function renderTemplate(template: Template, urlFor: (reference: Reference) => string): string {
  let out = template.parts[0]!;
  template.references.forEach((reference, i) => {
    out += formatUrl(urlFor(reference), reference.context) + template.parts[i + 1]!;
  });
  return out;
}

/** Builds a template from holes at `spans` (in order) of `code`; spans that resolve to nothing stay text. */
function templateOf(
  code: string,
  holes: {
    start: number;
    end: number;
    spec: string;
    context: ReferenceContext;
    target?: string;
    keep: string;
  }[],
): Template {
  const parts: string[] = [];
  const references: Reference[] = [];
  let current = '';
  let last = 0;
  for (const hole of holes) {
    current += code.slice(last, hole.start);
    last = hole.end;
    if (hole.target) {
      parts.push(current);
      references.push({ target: hole.target, spec: hole.spec, context: hole.context });
      current = '';
    } else current += hole.keep;
  }
  parts.push(current + code.slice(last));
  return { parts, references };
}

/**
 * CSS printed by lightningcss with `analyzeDependencies`: every `url()` and `@import` stands as a
 * quoted placeholder. Local ones become holes; the others get their URL back.
 */
export function cssTemplate(
  code: string,
  dependencies: readonly { url: string; placeholder: string }[],
  from: string,
  known: ReadonlySet<string>,
): Template {
  const urls = new Map(dependencies.map((d) => [d.placeholder, d.url]));
  const holes = [];
  for (const match of code.matchAll(/"([^"\\]+)"/g)) {
    const url = urls.get(match[1]!);
    if (url === undefined) continue;
    const context: ReferenceContext =
      code.slice(match.index - 4, match.index) === 'url(' ? 'css-url' : 'css-string';
    holes.push({
      start: match.index,
      end: match.index + match[0].length,
      spec: url,
      context,
      target: resolveReference(url, from, known),
      keep: formatUrl(url, context),
    });
  }
  return templateOf(code, holes);
}

/** ES module import and export specifiers, static and `import('literal')`, found by es-module-lexer. */
export async function jsTemplate(code: string, from: string, known: ReadonlySet<string>): Promise<Template> {
  await initLexer;
  const [imports] = parseModule(code, from);
  const holes = [];
  for (const entry of [...imports].sort((a, b) => a.s - b.s)) {
    if (entry.n === undefined || entry.d === -2) continue;
    let { s: start, e: end } = entry;
    if (entry.d > -1) {
      // A dynamic import's range includes the quotes of its string literal.
      const quote = code[start];
      if ((quote !== '"' && quote !== "'" && quote !== '`') || code[end - 1] !== quote) continue;
      start++;
      end--;
    }
    const target = resolveReference(entry.n, from, known, { moduleSpecifier: true });
    if (target) holes.push({ start, end, spec: entry.n, context: 'raw' as const, target, keep: '' });
  }
  return templateOf(code, holes);
}

/** `src`, `href`, `poster` and `srcset` URLs of an HTML document. */
export function htmlTemplate(code: string, from: string, known: ReadonlySet<string>): Template {
  const holes = [];
  for (const { start, end } of htmlUrlSpans(code)) {
    const spec = code.slice(start, end);
    const target = resolveReference(spec, from, known);
    if (target) holes.push({ start, end, spec, context: 'raw' as const, target, keep: '' });
  }
  return templateOf(code, holes);
}
