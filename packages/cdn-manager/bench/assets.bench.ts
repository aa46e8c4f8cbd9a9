/**
 * The asset pipeline against the same tools run directly (a plain sequential script: esbuild,
 * lightningcss, svgo, sharp, zlib, with the same settings, no hashing, manifest or cache).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, extname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { type BenchTable, renderText } from '@noa/testkit';
import * as esbuild from 'esbuild';
import * as lightningcss from 'lightningcss';
import sharp from 'sharp';
import { optimize as svgo } from 'svgo';
import { assetStats, optimizeAssets } from '../src/assets.js';
import { generateSite } from '../test/site.js';

const gz = promisify(gzip);
const br = promisify(brotliCompress);
const images = { webp: true, avif: true, quality: 80, avifEffort: 4 };

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** What a hand-written build script does with the same tools and settings. */
export async function direct(input: string, out: string): Promise<{ before: number; after: number }> {
  let before = 0;
  let after = 0;
  for (const file of files(input)) {
    const data = readFileSync(file);
    before += data.byteLength;
    const ext = extname(file);
    let result: Buffer = data;
    if (ext === '.js')
      result = Buffer.from(
        (await esbuild.transform(data.toString(), { minify: true, loader: 'js', legalComments: 'none' }))
          .code,
      );
    else if (ext === '.css')
      result = Buffer.from(lightningcss.transform({ filename: file, code: data, minify: true }).code);
    else if (ext === '.svg') result = Buffer.from(svgo(data.toString(), { multipass: true }).data);
    else if (ext === '.png' || ext === '.jpg') {
      const encoded =
        ext === '.png'
          ? await sharp(data).png({ compressionLevel: 9, effort: 10 }).toBuffer()
          : await sharp(data).jpeg({ quality: 80, mozjpeg: true }).toBuffer();
      result = encoded.byteLength < data.byteLength ? encoded : data;
      const target = join(out, relative(input, file));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(`${target}.webp`, await sharp(data).webp({ quality: 80 }).toBuffer());
      writeFileSync(`${target}.avif`, await sharp(data).avif({ quality: 60, effort: 4 }).toBuffer());
    }
    after += result.byteLength;
    const target = join(out, relative(input, file));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, result);
    if (['.js', '.css', '.svg', '.txt', '.html'].includes(ext)) {
      writeFileSync(`${target}.gz`, await gz(result, { level: 9 }));
      writeFileSync(
        `${target}.br`,
        await br(result, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_SIZE_HINT]: result.byteLength,
          },
        }),
      );
    }
  }
  return { before, after };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

export async function assetsTable(quick: boolean): Promise<BenchTable> {
  const root = mkdtempSync(join(tmpdir(), 'noa-assets-bench-'));
  const input = join(root, 'site');
  await generateSite(input, { pages: quick ? 8 : 30, images: quick ? 3 : 10, imageSize: 256 });
  const count = files(input).length;
  const rounds = quick ? 1 : 3;
  const times = { cold: [] as number[], warm: [] as number[], direct: [] as number[] };
  let manifest: Awaited<ReturnType<typeof optimizeAssets>> | undefined;
  let directSizes = { before: 0, after: 0 };
  for (let round = 0; round < rounds; round++) {
    const out = join(root, `out-${round}`);
    let start = performance.now();
    manifest = await optimizeAssets({ inputDir: input, outDir: out, images, compress: ['br', 'gzip'] });
    times.cold.push(performance.now() - start);
    start = performance.now();
    const warm = await optimizeAssets({ inputDir: input, outDir: out, images, compress: ['br', 'gzip'] });
    times.warm.push(performance.now() - start);
    if (assetStats(warm).totals.skipped !== count) throw new Error('incremental run reprocessed files');
    start = performance.now();
    directSizes = await direct(input, join(root, `direct-${round}`));
    times.direct.push(performance.now() - start);
  }
  rmSync(root, { recursive: true, force: true });
  const t = assetStats(manifest!).totals;
  const row = (name: string, ms: number, before: number, after: number, note: string) => [
    name,
    String(count),
    before.toLocaleString('en-US'),
    after.toLocaleString('en-US'),
    `${(((before - after) / before) * 100).toFixed(1)}%`,
    Math.round((count / ms) * 1000),
    `${(median(times.direct) / ms).toFixed(2)}×`,
    note,
  ];
  return {
    id: 'cdn-assets',
    title: `Asset pipeline on a generated site (${count} files: JS, CSS, SVG, PNG, JPEG; WebP + AVIF + br + gzip variants)`,
    columns: ['run', 'files', 'bytes before', 'bytes after', 'saved', 'files/s', 'speed vs direct', 'notes'],
    rows: [
      row(
        'optimizeAssets, cold',
        median(times.cold),
        t.bytesBefore,
        t.bytesAfter,
        `hashing, manifest, cache, concurrency ${availableParallelism()}`,
      ),
      row(
        'optimizeAssets, unchanged (incremental)',
        median(times.warm),
        t.bytesBefore,
        t.bytesAfter,
        'every file skipped',
      ),
      row(
        'same tools directly (sequential script)',
        median(times.direct),
        directSizes.before,
        directSizes.after,
        'no hashing, manifest or cache',
      ),
    ],
    notes: [
      `median of ${rounds} round(s); bytes after = main files (variants not counted); brotli variants total ${t.brotliBytes.toLocaleString('en-US')} bytes`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(renderText(await assetsTable(process.env.NOA_BENCH_QUICK === '1')));
