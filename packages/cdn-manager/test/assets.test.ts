import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { isNoaError } from '@noa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetUrl, optimizeAssets } from '../src/assets.js';
import { generateSite } from './site.js';

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

  it('minifies JS, CSS and SVG, re-encodes images with WebP/AVIF variants, hashes names, pre-compresses text', async () => {
    const manifest = await optimizeAssets(options());
    expect(Object.keys(manifest.files).sort()).toEqual([
      'css/page-0.css',
      'css/page-1.css',
      'img/logo.svg',
      'img/photo-0.jpg',
      'img/photo-0.png',
      'js/page-0.js',
      'js/page-1.js',
      'robots.txt',
    ]);
    expect(manifest.files['js/page-0.js']).toMatch(/^js\/page-0\.[0-9a-f]{8}\.js$/);
    for (const [source, record] of Object.entries(manifest.assets)) {
      expect(existsSync(join(out, record.output)), source).toBe(true);
      if (record.type !== 'other') expect(record.bytesAfter, source).toBeLessThan(record.bytesBefore);
    }
    const js = manifest.assets['js/page-0.js']!;
    const code = readFileSync(join(out, js.output));
    expect(code.toString()).not.toContain('kept readable');
    const br = js.variants.find((v) => v.kind === 'br')!;
    const gz = js.variants.find((v) => v.kind === 'gzip')!;
    expect(brotliDecompressSync(readFileSync(join(out, br.file)))).toEqual(code);
    expect(gunzipSync(readFileSync(join(out, gz.file)))).toEqual(code);
    expect(readFileSync(join(out, manifest.files['img/logo.svg']!)).toString()).not.toContain('Generator');
    expect(readFileSync(join(out, manifest.files['css/page-0.css']!)).toString()).toContain('color:red');
    const png = manifest.assets['img/photo-0.png']!;
    expect(png.variants.map((v) => v.kind).sort()).toEqual(['avif', 'webp']);
    const sharp = (await import('sharp')).default;
    expect(
      (await sharp(readFileSync(join(out, png.variants.find((v) => v.kind === 'avif')!.file))).metadata())
        .format,
    ).toBe('heif');
    expect(manifest.totals.processed).toBe(8);
    expect(manifest.totals.bytesSaved).toBe(manifest.totals.bytesBefore - manifest.totals.bytesAfter);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).files).toEqual(manifest.files);
  });

  it('skips unchanged inputs and reprocesses only what changed', async () => {
    const again = await optimizeAssets(options());
    expect(again.totals.skipped).toBe(8);
    expect(again.totals.processed).toBe(0);
    const before = again.files['js/page-1.js'];
    writeFileSync(join(input, 'js', 'page-1.js'), 'export const changed = 1 + 1;\n');
    const third = await optimizeAssets(options());
    expect(third.totals.processed).toBe(1);
    expect(third.assets['js/page-1.js']!.skipped).toBe(false);
    expect(third.files['js/page-1.js']).not.toBe(before);
    const changedOptions = await optimizeAssets({ ...options(), compress: ['gzip'] });
    expect(changedOptions.totals.processed).toBe(8); // other options, other outputs: nothing reused
  });

  it('builds cache-busting URLs: hashed names, or ?v= when names are not hashed', async () => {
    const manifest = await optimizeAssets(options());
    expect(assetUrl(manifest, 'js/page-0.js', { baseUrl: 'https://cdn.example.com/static' })).toBe(
      `https://cdn.example.com/static/${manifest.files['js/page-0.js']}`,
    );
    expect(assetUrl(manifest, '/img/photo-0.png', { variant: 'webp' })).toMatch(
      /^\/img\/photo-0\.[0-9a-f]{8}\.webp$/,
    );
    const plainOut = join(root, 'plain');
    const plain = await optimizeAssets({ ...options(), outDir: plainOut, hash: false, images: false });
    expect(plain.files['js/page-0.js']).toBe('js/page-0.js');
    expect(assetUrl(plain, 'js/page-0.js')).toMatch(/^\/js\/page-0\.js\?v=[0-9a-f]{8}$/);
    expect(() => assetUrl(plain, 'missing.js')).toThrow(/not in the manifest/);
  });

  it('reports broken inputs by name and bad options clearly', async () => {
    const badRoot = mkdtempSync(join(tmpdir(), 'noa-assets-bad-'));
    writeFileSync(join(badRoot, 'broken.js'), 'function (');
    writeFileSync(join(badRoot, 'fine.css'), 'a { color: blue }');
    const error = await optimizeAssets({ inputDir: badRoot, outDir: join(badRoot, 'out') }).catch((e) => e);
    expect(isNoaError(error, 'NOA_ASSETS_TRANSFORM_FAILED')).toBe(true);
    expect(error.message).toContain('broken.js');
    const missing = await optimizeAssets({
      inputDir: join(badRoot, 'nope'),
      outDir: join(badRoot, 'o'),
    }).catch((e) => e);
    expect(isNoaError(missing, 'NOA_ASSETS_INPUT_NOT_FOUND')).toBe(true);
    await expect(optimizeAssets({ inputDir: badRoot, outDir: badRoot })).rejects.toThrow(/must differ/);
    rmSync(badRoot, { recursive: true, force: true });
  });
});
