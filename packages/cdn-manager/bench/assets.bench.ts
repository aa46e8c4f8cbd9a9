/**
 * The asset pipeline against the same tools run directly (a plain sequential script: esbuild,
 * lightningcss, svgo, sharp, zlib, with the same settings, no hashing, manifest, cache or reference
 * rewriting). Both sides use identical tool settings (PNG level 9 / effort 10, mozjpeg q80, WebP q80,
 * AVIF q60 effort 4, gzip 9, brotli 11), so they do the same work and produce the same bytes but for
 * the hashed names written into references.
 *
 * This machine is shared: other processes take CPU at random, which moves wall times by 2× between
 * runs. So every round runs each contender once, in rotated order, and the table gives the median
 * and the best run of each, and the CPU time the process used (which load does not inflate).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { type BenchTable, renderText } from '@noa/testkit';
import * as esbuild from 'esbuild';
import * as lightningcss from 'lightningcss';
import sharp from 'sharp';
import { optimize as svgo } from 'svgo';
import { type AssetManifest, assetStats, optimizeAssets } from '../src/assets.js';
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
async function direct(input: string, out: string): Promise<{ before: number; after: number }> {
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

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Wall time and the CPU time of this process (all its threads: sharp and zlib work in the pool). */
async function sample(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

export async function assetsTable(quick: boolean): Promise<BenchTable> {
  const root = mkdtempSync(join(tmpdir(), 'noa-assets-bench-'));
  const input = join(root, 'site');
  await generateSite(input, { pages: quick ? 8 : 30, images: quick ? 3 : 10, imageSize: 256 });
  const count = files(input).length;
  const rounds = quick ? 1 : 5;
  const cores = availableParallelism();
  const options = (out: string, concurrency?: number) => ({
    inputDir: input,
    outDir: out,
    images,
    compress: ['br', 'gzip'] as ('br' | 'gzip')[],
    concurrency,
  });
  // Load every tool once so no contender pays for the first import.
  await optimizeAssets({ ...options(join(root, 'warmup')), incremental: false });
  await direct(input, join(root, 'direct-warmup'));
  const samples: Record<'cold' | 'serial' | 'warm' | 'direct', Sample[]> = {
    cold: [],
    serial: [],
    warm: [],
    direct: [],
  };
  let manifest: AssetManifest | undefined;
  let directSizes = { before: 0, after: 0 };
  for (let round = 0; round < rounds; round++) {
    const contenders = [
      async () => {
        const out = join(root, `cold-${round}`);
        samples.cold.push(await sample(async () => (manifest = await optimizeAssets(options(out)))));
        samples.warm.push(
          await sample(async () => {
            const warm = await optimizeAssets(options(out));
            if (assetStats(warm).totals.skipped !== count)
              throw new Error('incremental run reprocessed files');
          }),
        );
      },
      async () => {
        samples.serial.push(await sample(() => optimizeAssets(options(join(root, `serial-${round}`), 1))));
      },
      async () => {
        samples.direct.push(
          await sample(async () => (directSizes = await direct(input, join(root, `direct-${round}`)))),
        );
      },
    ];
    for (let i = 0; i < contenders.length; i++) await contenders[(i + round) % contenders.length]!();
  }
  rmSync(root, { recursive: true, force: true });
  const t = assetStats(manifest!).totals;
  const directWall = median(samples.direct.map((s) => s.wallMs));
  const directBest = Math.min(...samples.direct.map((s) => s.wallMs));
  const row = (name: string, runs: Sample[], before: number, after: number, note: string) => {
    const wall = median(runs.map((s) => s.wallMs));
    const best = Math.min(...runs.map((s) => s.wallMs));
    return [
      name,
      String(count),
      before.toLocaleString('en-US'),
      after.toLocaleString('en-US'),
      `${(((before - after) / before) * 100).toFixed(1)}%`,
      Math.round((count / wall) * 1000),
      `${(directWall / wall).toFixed(2)}×`,
      `${(directBest / best).toFixed(2)}×`,
      (median(runs.map((s) => s.cpuMs)) / 1000).toFixed(2),
      note,
    ];
  };
  return {
    id: 'cdn-assets',
    title: `Asset pipeline on a generated site (${count} files: HTML, JS, CSS, SVG, PNG, JPEG; WebP + AVIF + br + gzip variants)`,
    columns: [
      'run',
      'files',
      'bytes before',
      'bytes after',
      'saved',
      'files/s (median)',
      'speed vs direct (median)',
      'speed vs direct (best run)',
      'CPU s (median)',
      'notes',
    ],
    rows: [
      row(
        'optimizeAssets, cold',
        samples.cold,
        t.bytesBefore,
        t.bytesAfter,
        `concurrency ${cores} (the default: CPUs); hashing, reference rewriting, manifest, cache`,
      ),
      row(
        'optimizeAssets, cold, concurrency 1',
        samples.serial,
        t.bytesBefore,
        t.bytesAfter,
        'one tool run at a time, like the script',
      ),
      row(
        'optimizeAssets, unchanged (incremental)',
        samples.warm,
        t.bytesBefore,
        t.bytesAfter,
        'every file skipped',
      ),
      row(
        'same tools directly (sequential script)',
        samples.direct,
        directSizes.before,
        directSizes.after,
        'no hashing, rewriting, manifest or cache',
      ),
    ],
    notes: [
      `${rounds} round(s), contenders in rotated order; ${cores} CPUs shared with other processes (load average ${loadavg()[0]!.toFixed(1)} at the end)`,
      'bytes after = main files (variants not counted); the pipeline writes hashed names into references, hence its few extra bytes',
      'CPU s = user + system time of the benchmark process (sharp, zlib and svgo included; esbuild runs in its own process, the same for both)',
      `brotli variants total ${t.brotliBytes.toLocaleString('en-US')} bytes, gzip ${t.gzipBytes.toLocaleString('en-US')}`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(renderText(await assetsTable(process.env.NOA_BENCH_QUICK === '1')));
