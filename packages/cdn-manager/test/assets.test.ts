import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { isNoaError } from '@noa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssetManifest, assetStats, assetUrl, optimizeAssets } from '../src/assets.js';
import { generateSite } from './site.js';

const HASHED = /\.[0-9a-f]{8}\./;

describe('optimizeAssets', () => {
  let root: string;
  let input: string;
  let out: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'noa-assets-'));
    input = join(root, 'site');
    out = join(root, 'dist');
    await generateSite(input, { pages: 2, images: 1, imageSize: 32 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const options = () => ({
    inputDir: input,
    outDir: out,
    minify: true,
    images: { webp: true, avif: true, avifEffort: 0 },
    compress: ['br', 'gzip'] as ('br' | 'gzip')[],
    hash: true,
  });
  const read = (manifest: AssetManifest, name: string) => readFileSync(join(out, manifest[name]!), 'utf8');

  it('returns the flat name map of the issue; sizes before/after through assetStats', async () => {
    const manifest = await optimizeAssets(options());
    expect(manifest['js/page-0.js']).toMatch(/^js\/page-0\.[0-9a-f]{8}\.js$/);
    expect(Object.keys(manifest).sort()).toEqual([
      'css/page-0.css',
      'css/page-1.css',
      'img/logo.svg',
      'img/photo-0.jpg',
      'img/photo-0.jpg.avif',
      'img/photo-0.jpg.webp',
      'img/photo-0.png',
      'img/photo-0.png.avif',
      'img/photo-0.png.webp',
      'index.html',
      'js/page-0.js',
      'js/page-1.js',
      'robots.txt',
    ]);
    expect(Object.values(manifest).every((v) => typeof v === 'string')).toBe(true);
    // The written manifest.json and JSON.stringify are the same flat map, nothing else.
    const written = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(written).toEqual({ ...manifest });
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(written);
    const { assets, totals } = assetStats(manifest);
    expect(Object.keys(assets)).toHaveLength(9);
    expect(totals.processed).toBe(9);
    expect(totals.bytesSaved).toBe(totals.bytesBefore - totals.bytesAfter);
    expect(totals.bytesAfter).toBeLessThan(totals.bytesBefore);
    expect(assets['js/page-0.js']!.bytesAfter).toBeLessThan(assets['js/page-0.js']!.bytesBefore);
    // A parsed manifest.json has no stats, and says how to get them.
    expect(() => assetStats(written)).toThrow(/optimizeAssets returned/);
  });

  it('minifies JS, CSS and SVG, re-encodes images with WebP/AVIF variants, pre-compresses text', async () => {
    const manifest = await optimizeAssets(options());
    const { assets } = assetStats(manifest);
    for (const [source, record] of Object.entries(assets)) {
      expect(existsSync(join(out, record.output)), source).toBe(true);
      if (record.type === 'image' || record.type === 'svg')
        expect(record.bytesAfter, source).toBeLessThan(record.bytesBefore);
    }
    const js = assets['js/page-0.js']!;
    const code = readFileSync(join(out, js.output));
    expect(code.toString()).not.toContain('kept readable');
    expect(
      brotliDecompressSync(readFileSync(join(out, js.variants.find((v) => v.kind === 'br')!.file))),
    ).toEqual(code);
    expect(gunzipSync(readFileSync(join(out, js.variants.find((v) => v.kind === 'gzip')!.file)))).toEqual(
      code,
    );
    expect(read(manifest, 'img/logo.svg')).not.toContain('Generator');
    expect(read(manifest, 'css/page-0.css')).toContain('color:red');
    const png = assets['img/photo-0.png']!;
    expect(png.variants.map((v) => v.kind).sort()).toEqual(['avif', 'webp']);
    expect(manifest['img/photo-0.png.avif']).toBe(png.variants.find((v) => v.kind === 'avif')!.file);
    const sharp = (await import('sharp')).default;
    expect((await sharp(join(out, manifest['img/photo-0.png.avif']!)).metadata()).format).toBe('heif');
  });

  it('points references in CSS, HTML and JS at the hashed names', async () => {
    const manifest = await optimizeAssets(options());
    const base = (name: string) => manifest[name]!.split('/').pop()!;
    // HTML documents and fixed-URL files keep their names.
    expect(manifest['index.html']).toBe('index.html');
    expect(manifest['robots.txt']).toBe('robots.txt');
    const html = read(manifest, 'index.html');
    expect(html).toContain(`href="${manifest['css/page-1.css']}"`);
    expect(html).toContain(`src="./${manifest['js/page-1.js']}"`);
    expect(html).toContain(`href="/${manifest['img/logo.svg']}"`);
    expect(html).toContain(`srcset="/${manifest['img/photo-0.png']} 1x, ${manifest['img/photo-0.jpg']} 2x"`);
    expect(html).toContain(`<img src="${manifest['img/photo-0.png']}"`);
    expect(html).toContain('href="https://example.com/"');
    const css = read(manifest, 'css/page-1.css');
    expect(css).toContain(`@import "${base('css/page-0.css')}"`);
    expect(css).toContain(`url(../${manifest['img/logo.svg']})`);
    const js = read(manifest, 'js/page-1.js');
    expect(js).toContain(`"./${base('js/page-0.js')}"`);
    // Every hashed file that is referenced exists under the name it is referenced by.
    for (const text of [html, css, js])
      for (const match of text.matchAll(/[\w./-]+\.[0-9a-f]{8}\.\w+/g))
        expect(
          Object.values(manifest).some((v) => v.endsWith(match[0].replace(/^[./]+/, ''))),
          match[0],
        ).toBe(true);
  });

  it('skips unchanged inputs; a changed file renames everything that references it', async () => {
    const first = await optimizeAssets(options());
    const again = await optimizeAssets(options());
    expect(assetStats(again).totals.skipped).toBe(9);
    expect(assetStats(again).totals.processed).toBe(0);
    expect({ ...again }).toEqual({ ...first });
    writeFileSync(join(input, 'js', 'page-0.js'), 'export function computeTotal_0() { return 2; }\n');
    const third = await optimizeAssets(options());
    const stats = assetStats(third);
    // page-0.js changed; page-1.js imports it, index.html loads page-1.js: both rewritten.
    expect(
      Object.values(stats.assets)
        .filter((r) => !r.skipped)
        .map((r) => r.source)
        .sort(),
    ).toEqual(['index.html', 'js/page-0.js', 'js/page-1.js']);
    expect(third['js/page-0.js']).not.toBe(first['js/page-0.js']);
    expect(third['js/page-1.js']).not.toBe(first['js/page-1.js']);
    expect(read(third, 'js/page-1.js')).toContain(third['js/page-0.js']!.split('/').pop());
    expect(third['css/page-1.css']).toBe(first['css/page-1.css']);
    const changedOptions = await optimizeAssets({ ...options(), compress: ['gzip'] });
    expect(assetStats(changedOptions).totals.processed).toBe(9); // other options, other outputs
  });

  it('builds cache-busting URLs: hashed names, or ?v= when names are not hashed', async () => {
    const manifest = await optimizeAssets(options());
    expect(assetUrl(manifest, 'js/page-0.js', { baseUrl: 'https://cdn.example.com/static' })).toBe(
      `https://cdn.example.com/static/${manifest['js/page-0.js']}`,
    );
    expect(assetUrl(manifest, '/img/photo-0.png', { variant: 'webp' })).toMatch(
      /^\/img\/photo-0\.[0-9a-f]{8}\.webp$/,
    );
    expect(assetUrl(manifest, 'robots.txt')).toMatch(/^\/robots\.txt\?v=[0-9a-f]{8}$/);
    expect(assetUrl(manifest, 'index.html')).toBe('/index.html');
    // From a parsed manifest.json: the same hashed URLs.
    const parsed = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(assetUrl(parsed, 'js/page-0.js')).toBe(assetUrl(manifest, 'js/page-0.js'));
    expect(assetUrl(parsed, 'img/photo-0.png', { variant: 'avif' })).toBe(
      assetUrl(manifest, 'img/photo-0.png', { variant: 'avif' }),
    );
    const plainOut = join(root, 'plain');
    const plain = await optimizeAssets({ ...options(), outDir: plainOut, hash: false });
    expect(plain['js/page-0.js']).toBe('js/page-0.js');
    // Unhashed PNG and JPEG variants of the same stem no longer overwrite each other.
    expect(plain['img/photo-0.png.webp']).toBe('img/photo-0.png.webp');
    expect(plain['img/photo-0.jpg.webp']).toBe('img/photo-0.jpg.webp');
    expect(assetUrl(plain, 'js/page-0.js')).toMatch(/^\/js\/page-0\.js\?v=[0-9a-f]{8}$/);
    // Unhashed names: references carry ?v= so they still change with the content.
    const css = readFileSync(join(plainOut, 'css/page-1.css'), 'utf8');
    expect(css).toMatch(/@import "page-0\.css\?v=[0-9a-f]{8}"/);
    expect(readFileSync(join(plainOut, 'index.html'), 'utf8')).not.toMatch(HASHED);
    expect(() => assetUrl(plain, 'missing.js')).toThrow(/not in the manifest/);
  });

  it('reports broken inputs by name, and what they break, and bad options clearly', async () => {
    const badRoot = mkdtempSync(join(tmpdir(), 'noa-assets-bad-'));
    writeFileSync(join(badRoot, 'broken.js'), 'function (');
    writeFileSync(join(badRoot, 'main.js'), 'import "./broken.js";');
    writeFileSync(join(badRoot, 'fine.css'), 'a { color: blue }');
    const error = await optimizeAssets({ inputDir: badRoot, outDir: join(badRoot, 'out') }).catch((e) => e);
    expect(isNoaError(error, 'NOA_ASSETS_TRANSFORM_FAILED')).toBe(true);
    expect(error.message).toContain('broken.js:');
    expect(error.message).toContain('main.js: not written: it references broken.js, which failed');
    expect(error.message).not.toContain('fine.css');
    const missing = await optimizeAssets({
      inputDir: join(badRoot, 'nope'),
      outDir: join(badRoot, 'o'),
    }).catch((e) => e);
    expect(isNoaError(missing, 'NOA_ASSETS_INPUT_NOT_FOUND')).toBe(true);
    await expect(optimizeAssets({ inputDir: badRoot, outDir: badRoot })).rejects.toThrow(/must differ/);
    await expect(
      optimizeAssets({ inputDir: badRoot, outDir: join(badRoot, 'o'), concurrency: 0 }),
    ).rejects.toThrow(/concurrency/);
    rmSync(badRoot, { recursive: true, force: true });
  });
});

describe('optimizeAssets references', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'noa-assets-refs-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const site = (name: string, files: Record<string, string>) => {
    const dir = join(root, name, 'site');
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), content);
    }
    return { inputDir: dir, outDir: join(root, name, 'out') };
  };

  it('hashes an import cycle as one: both names change when either file does', async () => {
    const dirs = site('cycle', {
      'a.js': "import { b } from './b.js';\nexport const a = () => b;\n",
      'b.js': "import { a } from './a.js';\nexport const b = () => a;\n",
      'self.js': "export const me = () => import('./self.js');\n",
    });
    const first = await optimizeAssets(dirs);
    const outA = readFileSync(join(dirs.outDir, first['a.js']!), 'utf8');
    const outB = readFileSync(join(dirs.outDir, first['b.js']!), 'utf8');
    expect(outA).toContain(`"./${first['b.js']}"`);
    expect(outB).toContain(`"./${first['a.js']}"`);
    expect(readFileSync(join(dirs.outDir, first['self.js']!), 'utf8')).toContain(`"./${first['self.js']}"`);
    writeFileSync(
      join(dirs.inputDir, 'b.js'),
      "import { a } from './a.js';\nexport const b = () => a + 1;\n",
    );
    const second = await optimizeAssets(dirs);
    expect(second['a.js']).not.toBe(first['a.js']);
    expect(second['b.js']).not.toBe(first['b.js']);
    expect(assetStats(second).assets['self.js']!.skipped).toBe(true);
  });

  it('leaves other origins, data: URLs, fragments, bare specifiers and missing files alone', async () => {
    const dirs = site('external', {
      'app.css':
        '.a{background:url(data:image/png;base64,AAAA)}.b{background:url("https://x.test/a.png")}.c{mask:url(#m)}.d{background:url(missing.png)}.e{background:url("sp ace.svg#icon")}',
      'sp ace.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
      'app.js': "import 'react';\nimport x from 'https://esm.test/x.js';\nexport default x;\n",
      'index.html': '<a href="mailto:a@b.c">m</a><a href="#top">t</a><img src="//cdn.test/a.png">',
    });
    const manifest = await optimizeAssets({ ...dirs, minify: false });
    const css = readFileSync(join(dirs.outDir, manifest['app.css']!), 'utf8');
    expect(css).toContain('url(data:image/png;base64,AAAA)');
    expect(css).toContain('url(https://x.test/a.png)');
    expect(css).toContain('url(#m)');
    expect(css).toContain('url(missing.png)');
    // A name that needs escaping is percent-encoded, its fragment kept.
    expect(css).toContain(`url(${manifest['sp ace.svg']!.replace(' ', '%20')}#icon)`);
    expect(readFileSync(join(dirs.outDir, manifest['app.js']!), 'utf8')).toBe(
      "import 'react';\nimport x from 'https://esm.test/x.js';\nexport default x;\n",
    );
    expect(readFileSync(join(dirs.outDir, 'index.html'), 'utf8')).toBe(
      '<a href="mailto:a@b.c">m</a><a href="#top">t</a><img src="//cdn.test/a.png">',
    );
  });

  it('keepNames decides which names stay; references to a kept name carry ?v=<hash>', async () => {
    const dirs = site('kept', {
      'index.html': '<script src="sw.js"></script><script type="module" src="app.js"></script>',
      'sw.js': 'self.addEventListener("fetch", () => {});',
      'app.js': 'export const app = 1;',
    });
    const manifest = await optimizeAssets({ ...dirs, keepNames: (source) => source === 'sw.js' });
    expect(manifest['sw.js']).toBe('sw.js');
    expect(manifest['index.html']).toMatch(HASHED); // not kept by this rule
    const { assets } = assetStats(manifest);
    expect(readFileSync(join(dirs.outDir, manifest['index.html']!), 'utf8')).toBe(
      `<script src="sw.js?v=${assets['sw.js']!.hash.slice(0, 8)}"></script><script type="module" src="${manifest['app.js']}"></script>`,
    );
    expect(assets['index.html']!.references).toEqual(['app.js', 'sw.js']);
  });

  it('a new file that an unchanged page pointed at is picked up on the next run', async () => {
    const dirs = site('added', { 'index.html': '<link rel="stylesheet" href="late.css">' });
    await optimizeAssets(dirs);
    writeFileSync(join(dirs.inputDir, 'late.css'), 'a{color:red}');
    const manifest = await optimizeAssets(dirs);
    expect(readFileSync(join(dirs.outDir, 'index.html'), 'utf8')).toBe(
      `<link rel="stylesheet" href="${manifest['late.css']}">`,
    );
  });
});
