import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { invariant, NoaError } from '@noa/core';
import type { AssetManifest, AssetRecord, AssetVariant } from './manifest.js';
import {
  assetType,
  compress,
  type ImageOptions,
  imageVariant,
  isCompressible,
  minifyCss,
  minifyJs,
  optimizeImage,
  optimizeSvg,
} from './transforms.js';

export interface OptimizeAssetsOptions {
  inputDir: string;
  outDir: string;
  /** JS via esbuild, CSS via lightningcss, SVG via svgo, PNG/JPEG re-encoded by sharp. Default true. */
  minify?: boolean;
  /** WebP / AVIF variants of PNG and JPEG images (sharp). Default none. */
  images?: ImageOptions | false;
  /** Pre-compressed variants of text assets. Default ['br', 'gzip']. */
  compress?: ('br' | 'gzip')[];
  /** Content-hashed output names (app.3f9a1c2e.js). Default true. */
  hash?: boolean;
  /** Hex characters of the hash in names. Default 8. */
  hashLength?: number;
  /** Skip inputs unchanged since the last run (cache kept in outDir). Default true. */
  incremental?: boolean;
  /** Files processed at once. Default the number of CPUs. */
  concurrency?: number;
  /** Write the manifest here (relative to outDir), or false. Default 'manifest.json'. */
  manifestFile?: string | false;
}

const CACHE_FILE = '.noa-assets-cache.json';
const CACHE_VERSION = 1;

interface CacheEntry {
  inputHash: string;
  record: AssetRecord;
}

interface CacheFile {
  version: number;
  optionsKey: string;
  entries: Record<string, CacheEntry>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function listFiles(dir: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (full === skip) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  await walk(dir);
  return out.sort();
}

function hashedName(source: string, hash: string, ext: string, hashLength: number, enabled: boolean): string {
  const base = source.slice(0, source.length - extname(source).length);
  return enabled ? `${base}.${hash.slice(0, hashLength)}${ext}` : `${base}${ext}`;
}

async function readCache(file: string, optionsKey: string): Promise<CacheFile['entries']> {
  try {
    const cache = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    // Different options produce different outputs: nothing from another configuration is reused.
    return cache.version === CACHE_VERSION && cache.optionsKey === optionsKey ? cache.entries : {};
  } catch {
    return {};
  }
}

/**
 * Optimizes every file under `inputDir` into `outDir`: minified JS/CSS/SVG, re-encoded images with
 * WebP/AVIF variants, brotli and gzip variants of text, content-hashed names, and a manifest with the
 * sizes before and after. Unchanged inputs are skipped on the next run.
 */
export async function optimizeAssets(options: OptimizeAssetsOptions): Promise<AssetManifest> {
  invariant(options?.inputDir && options.outDir, 'optimizeAssets: inputDir and outDir are required');
  const inputDir = resolve(options.inputDir);
  const outDir = resolve(options.outDir);
  const {
    minify = true,
    images = false,
    compress: algorithms = ['br', 'gzip'],
    hash = true,
    hashLength = 8,
    incremental = true,
    concurrency = availableParallelism(),
    manifestFile = 'manifest.json',
  } = options;
  if (!existsSync(inputDir) || !(await stat(inputDir)).isDirectory())
    throw new NoaError(
      'NOA_ASSETS_INPUT_NOT_FOUND',
      `optimizeAssets: inputDir ${inputDir} is not a directory`,
    );
  invariant(
    outDir !== inputDir,
    'optimizeAssets: outDir must differ from inputDir (outputs would be re-read as inputs)',
  );
  invariant(
    algorithms.every((a) => a === 'br' || a === 'gzip'),
    "optimizeAssets: compress takes 'br' and/or 'gzip'",
  );
  invariant(
    Number.isInteger(hashLength) && hashLength >= 4 && hashLength <= 64,
    'optimizeAssets: hashLength must be 4-64',
  );
  invariant(
    Number.isInteger(concurrency) && concurrency >= 1,
    'optimizeAssets: concurrency must be an integer >= 1',
  );

  const optionsKey = sha256(JSON.stringify({ minify, images, algorithms, hash, hashLength }));
  const cacheFile = join(outDir, CACHE_FILE);
  const previous = incremental ? await readCache(cacheFile, optionsKey) : {};
  const files = await listFiles(inputDir, outDir);
  const entries: CacheFile['entries'] = {};
  const errors: string[] = [];

  const write = async (relativePath: string, data: Buffer) => {
    const target = join(outDir, relativePath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  };

  const processFile = async (file: string) => {
    const source = relative(inputDir, file).split(sep).join('/');
    const input: Buffer = await readFile(file);
    const inputHash = sha256(input);
    const cached = previous[source];
    if (
      cached?.inputHash === inputHash &&
      [cached.record.output, ...cached.record.variants.map((v) => v.file)].every((f) =>
        existsSync(join(outDir, f)),
      )
    ) {
      entries[source] = { inputHash, record: { ...cached.record, skipped: true } };
      return;
    }
    const ext = extname(source).toLowerCase();
    const type = assetType(ext);
    let output: Buffer = input;
    if (minify) {
      if (type === 'js') output = await minifyJs(input, source);
      else if (type === 'css') output = await minifyCss(input, source);
      else if (type === 'svg') output = await optimizeSvg(input, source);
      else if (type === 'image')
        output = await optimizeImage(input, ext, images ? (images.quality ?? 80) : 80);
    }
    const outputHash = sha256(output);
    const outputName = hashedName(source, outputHash, extname(source), hashLength, hash);
    await write(outputName, output);
    const variants: AssetVariant[] = [];
    if (images && type === 'image' && (ext === '.png' || ext === '.jpg' || ext === '.jpeg')) {
      for (const format of ['webp', 'avif'] as const) {
        if (!images[format]) continue;
        const data = await imageVariant(input, format, images);
        const name = hashedName(source, sha256(data), `.${format}`, hashLength, hash);
        await write(name, data);
        variants.push({ kind: format, file: name, bytes: data.byteLength });
      }
    }
    if (isCompressible(ext)) {
      for (const algorithm of algorithms) {
        const data = await compress(output, algorithm);
        // A variant larger than the original is never what a CDN should serve.
        if (data.byteLength >= output.byteLength) continue;
        const name = `${outputName}.${algorithm === 'gzip' ? 'gz' : 'br'}`;
        await write(name, data);
        variants.push({ kind: algorithm, file: name, bytes: data.byteLength });
      }
    }
    entries[source] = {
      inputHash,
      record: {
        source,
        output: outputName,
        type,
        hash: outputHash,
        bytesBefore: input.byteLength,
        bytesAfter: output.byteLength,
        variants,
        skipped: false,
      },
    };
  };

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, Math.max(1, files.length)) }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        try {
          await processFile(file);
        } catch (error) {
          if ((error as NoaError).code === 'NOA_ASSETS_MISSING_DEPENDENCY') throw error;
          errors.push(`${relative(inputDir, file)}: ${(error as Error).message}`);
        }
      }
    }),
  );

  await mkdir(outDir, { recursive: true });
  // Saved even when some files failed, so their successful neighbours are skipped next time.
  const cache: CacheFile = { version: CACHE_VERSION, optionsKey, entries };
  await writeFile(cacheFile, JSON.stringify(cache));
  if (errors.length > 0)
    throw new NoaError(
      'NOA_ASSETS_TRANSFORM_FAILED',
      `optimizeAssets: ${errors.length} file(s) could not be optimized; fix them and run again:\n${errors.join('\n')}`,
    );

  const manifest: AssetManifest = {
    files: {},
    assets: {},
    totals: {
      files: 0,
      processed: 0,
      skipped: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      bytesSaved: 0,
      brotliBytes: 0,
      gzipBytes: 0,
    },
  };
  for (const source of Object.keys(entries).sort()) {
    const record = entries[source]!.record;
    manifest.files[source] = record.output;
    manifest.assets[source] = record;
    const t = manifest.totals;
    t.files++;
    if (record.skipped) t.skipped++;
    else t.processed++;
    t.bytesBefore += record.bytesBefore;
    t.bytesAfter += record.bytesAfter;
    for (const v of record.variants) {
      if (v.kind === 'br') t.brotliBytes += v.bytes;
      if (v.kind === 'gzip') t.gzipBytes += v.bytes;
    }
  }
  manifest.totals.bytesSaved = manifest.totals.bytesBefore - manifest.totals.bytesAfter;
  if (manifestFile) await writeFile(join(outDir, manifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
