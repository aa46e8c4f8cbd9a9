import fc from 'fast-check';
import { transform } from 'lightningcss';
import { describe, expect, it } from 'vitest';
import { stronglyConnected } from '../src/assets/graph.js';
import { htmlUrlSpans, srcsetSpans } from '../src/assets/html.js';
import {
  cssTemplate,
  jsTemplate,
  renderTemplate,
  resolveReference,
  rewriteSpec,
} from '../src/assets/references.js';
import { cssWithDependencies } from '../src/assets/transforms.js';
import { createLimit } from '../src/internal/limit.js';

const urlsOf = (html: string) => htmlUrlSpans(html).map((s) => html.slice(s.start, s.end));

describe('htmlUrlSpans', () => {
  it('finds src, href, poster and srcset URLs, quoted or not, and nothing in comments or scripts', () => {
    const html = `<!doctype html><!-- <img src="no.png"> --><link rel=stylesheet href=a.css>
<IMG SRC='b.png' alt="src=no.png"><video poster="c.jpg"></video>
<img srcset="d.png 1x, e.png 2x" data-src="no.png"><script>const s = '<img src="no.png">';</script>
<style>a{background:url(no.png)}</style><a href = " f.html ">f</a><p>1 < 2 and <b>bold</b></p>`;
    expect(urlsOf(html)).toEqual(['a.css', 'b.png', 'c.jpg', 'd.png', 'e.png', 'f.html']);
  });

  it('finds every attribute value it is given, whatever the quoting (property)', () => {
    const value = fc.stringMatching(/^[a-z0-9./_-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('img', 'script', 'a', 'link', 'source'),
            value,
            fc.constantFrom('"', "'", ''),
          ),
          {
            maxLength: 8,
          },
        ),
        (tags) => {
          const html = tags
            .map(
              ([tag, v, q]) =>
                `<${tag} class="x" ${tag === 'a' || tag === 'link' ? 'href' : 'src'}=${q}${v}${q}></${tag}>`,
            )
            .join('\n<p>text</p>\n');
          expect(urlsOf(html)).toEqual(tags.map(([, v]) => v));
        },
      ),
    );
  });

  it('splits srcset like the HTML spec: commas inside URLs, descriptors, no descriptors', () => {
    const text = 'a.png 1x,b,c.png 2x, d.png,e.png 100w, f.png (x,y) 3x';
    expect(srcsetSpans(text, 0, text.length).map((s) => text.slice(s.start, s.end))).toEqual([
      'a.png',
      'b,c.png',
      'd.png,e.png', // no space after the comma: one URL, as the spec reads it
      'f.png',
    ]);
  });
});

describe('resolveReference and rewriteSpec', () => {
  const known = new Set(['css/app.css', 'img/a b.png', 'img/logo.svg', 'js/app.js', 'index.html']);
  it('resolves relative and root-relative URLs; ignores what is not a local file', () => {
    expect(resolveReference('../img/logo.svg', 'css/app.css', known)).toBe('img/logo.svg');
    expect(resolveReference('/img/logo.svg?v=1#x', 'css/app.css', known)).toBe('img/logo.svg');
    expect(resolveReference('img/a%20b.png', 'index.html', known)).toBe('img/a b.png');
    expect(resolveReference('./app.js', 'js/x.js', known, { moduleSpecifier: true })).toBe('js/app.js');
    for (const spec of [
      'https://x/img/logo.svg',
      '//x/a.png',
      'data:x',
      '#m',
      '',
      'missing.png',
      '../../index.html',
    ])
      expect(resolveReference(spec, 'css/app.css', known), spec).toBeUndefined();
    expect(resolveReference('app.js', 'js/x.js', known, { moduleSpecifier: true })).toBeUndefined();
  });

  it('keeps the directory and the query/fragment as written, merges ?v= into a query', () => {
    expect(rewriteSpec('../img/logo.svg#icon', 'img/logo.3f9a1c2e.svg')).toBe(
      '../img/logo.3f9a1c2e.svg#icon',
    );
    expect(rewriteSpec('/a.woff2?#iefix', 'a.woff2?v=12345678')).toBe('/a.woff2?v=12345678&#iefix');
    expect(rewriteSpec('x/a b.png', 'x/a b.1234abcd.png')).toBe('x/a%20b.1234abcd.png');
  });
});

describe('templates', () => {
  it('CSS without local references comes out exactly as lightningcss prints it', async () => {
    const code = Buffer.from(
      '@import "https://fonts.test/a.css";.a{background:url(https://x.test/a.png)}.b{mask:url(#m)}.c{background:url("data:image/svg+xml;utf8,<svg></svg>")}',
    );
    const css = await cssWithDependencies(code, 'a.css', true);
    const template = cssTemplate(css.code, css.dependencies, 'a.css', new Set());
    expect(template.references).toEqual([]);
    expect(template.parts.join('')).toBe(
      transform({ filename: 'a.css', code, minify: true }).code.toString(),
    );
  });

  it('JS: static, re-export and literal dynamic imports become holes; computed ones do not', async () => {
    const code =
      "import a from './a.js';export * from \"./a.js\";import('./b.js');import(`./b.js`);import('./' + x);import 'pkg';";
    const template = await jsTemplate(code, 'main.js', new Set(['a.js', 'b.js']));
    expect(template.references.map((r) => r.target)).toEqual(['a.js', 'a.js', 'b.js', 'b.js']);
    expect(renderTemplate(template, (r) => rewriteSpec(r.spec, r.target.replace('.js', '.h.js')))).toBe(
      "import a from './a.h.js';export * from \"./a.h.js\";import('./b.h.js');import(`./b.h.js`);import('./' + x);import 'pkg';",
    );
  });
});

describe('stronglyConnected', () => {
  it('orders components dependencies first and groups cycles (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(9), fc.nat(9)), { maxLength: 30 }), (pairs) => {
        const nodes = Array.from({ length: 10 }, (_, i) => `n${i}`);
        const edges = new Map(nodes.map((n) => [n, [] as string[]]));
        for (const [a, b] of pairs) edges.get(`n${a}`)!.push(`n${b}`);
        const components = stronglyConnected(nodes, (n) => edges.get(n)!);
        expect(components.flat().sort()).toEqual([...nodes].sort());
        const position = new Map(components.flatMap((c, i) => c.map((n) => [n, i] as const)));
        const reaches = (from: string, to: string) => {
          const seen = new Set([from]);
          const stack = [from];
          while (stack.length)
            for (const next of edges.get(stack.pop()!)!)
              if (!seen.has(next)) {
                seen.add(next);
                stack.push(next);
              }
          return seen.has(to);
        };
        for (const [a, b] of pairs) {
          // An edge never points to a later component; within one component both reach each other.
          expect(position.get(`n${b}`)!).toBeLessThanOrEqual(position.get(`n${a}`)!);
          if (position.get(`n${a}`) === position.get(`n${b}`)) expect(reaches(`n${b}`, `n${a}`)).toBe(true);
        }
      }),
    );
  });
});

describe('createLimit', () => {
  it('runs at most n tasks at once; urgent tasks go before queued ones', async () => {
    const limit = createLimit(2);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const task = (name: string) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(name);
      running--;
    };
    await Promise.all([
      limit.run(task('a')),
      limit.run(task('b')),
      limit.run(task('c')),
      limit.run(task('d')),
      limit.run(task('urgent'), true),
    ]);
    expect(peak).toBe(2);
    expect(order.indexOf('urgent')).toBeLessThan(order.indexOf('c'));
    await expect(
      limit.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await limit.run(() => 42)).toBe(42);
  });
});
