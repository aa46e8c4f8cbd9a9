import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { invariant, NoaError } from '@noa/core';
import { createLimit } from '../internal/limit.js';
import { stronglyConnected } from './graph.js';
import {
  type AssetManifest,
  type AssetRecord,
  type AssetTotals,
  type AssetVariant,
  cacheBustedName,
  variantKey,
  withStats,
} from './manifest.js';
import {
  cssTemplate,
  htmlTemplate,
  jsTemplate,
  renderTemplate,
  rewriteSpec,
  type Template,
} from './references.js';
import {
  type AssetType,
  assetType,
  compress,
  cssWithDependencies,
  type ImageOptions,
  imageVariant,
  isCompressible,
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
  /**
   * Files whose names must not change even with `hash` (they are requested by fixed URLs).
   * Default `defaultKeepNames`: HTML documents, robots.txt, favicon.ico, sitemap.xml, .well-known/…
   */
  keepNames?: (source: string) => boolean;
  /** Skip inputs unchanged since the last run (cache kept in outDir). Default true. */
  incremental?: boolean;
  /** Tool runs (minify, encode, compress) at once. Default the number of CPUs. */
  concurrency?: number;
  /** Write the manifest here (relative to outDir), or false. Default 'manifest.json'. */
  manifestFile?: string | false;
}

const FIXED_URL_NAMES =
  /^(robots\.txt|favicon\.ico|sitemap\.xml|ads\.txt|app-ads\.txt|humans\.txt|security\.txt|crossdomain\.xml|browserconfig\.xml|site\.webmanifest|manifest\.webmanifest|apple-touch-icon[^/]*\.png)$/;

/** HTML documents and files clients request at fixed URLs keep their names. */
export const defaultKeepNames = (source: string): boolean =>
  /\.html?$/i.test(source) || FIXED_URL_NAMES.test(source) || source.startsWith('.well-known/');

const CACHE_FILE = '.noa-assets-cache.json';
const CACHE_VERSION = 2;

interface CacheEntry {
  inputHash: string;
  record: AssetRecord;
  /** Referenced asset -> the name the output points at (a change means rewriting again). */
  targets: Record<string, string>;
}

interface CacheFile {
  version: number;
  optionsKey: string;
  /** Hash of the list of inputs: a new file can be what an unchanged reference now points at. */
  filesKey: string;
  entries: Record<string, CacheEntry>;
}

interface Job {
  source: string;
  file: string;
  ext: string;
  type: AssetType;
  keepName: boolean;
  input?: Buffer;
  inputHash?: string;
  /** The previous run's entry, when the input and its outputs are unchanged. */
  cached?: CacheEntry;
  template?: Template;
  /** Assets referenced, whose names must be known first. */
  targets: string[];
}

/** A dependency failed, so the referencing file could not be written with its name. */
class DependencyFailed extends Error {
  constructor(readonly target: string) {
    super(`it references ${target}, which failed`);
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const HAS_REFERENCES = new Set<AssetType>(['js', 'css', 'html']);
/**
 * Heavy files first (longest task first: the run ends on short tasks, not on one long encode alone).
 * PNG re-encoding with palette quantisation is the slowest tool run by far, then other images, SVG.
 */
const priority = (job: Job) =>
  job.ext === '.png'
    ? 0
    : job.type === 'image'
      ? 1
      : job.type === 'svg'
        ? 2
        : HAS_REFERENCES.has(job.type)
          ? 3
          : 4;
const noop = () => {};

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

function hashedName(source: string, hash: string, hashLength: number, ext = extname(source)): string {
  return `${source.slice(0, source.length - extname(source).length)}.${hash.slice(0, hashLength)}${ext}`;
}

async function readCache(file: string, optionsKey: string): Promise<CacheFile | undefined> {
  try {
    const cache = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    // Different options produce different outputs: nothing from another configuration is reused.
    return cache.version === CACHE_VERSION && cache.optionsKey === optionsKey ? cache : undefined;
  } catch {
    return undefined;
  }
}

function checkOptions(options: OptimizeAssetsOptions) {
  invariant(options?.inputDir && options.outDir, 'optimizeAssets: inputDir and outDir are required');
  const resolved = {
    inputDir: resolve(options.inputDir),
    outDir: resolve(options.outDir),
    minify: options.minify ?? true,
    images: options.images ?? false,
    algorithms: options.compress ?? ['br', 'gzip'],
    hash: options.hash ?? true,
    hashLength: options.hashLength ?? 8,
    keepNames: options.keepNames ?? defaultKeepNames,
    incremental: options.incremental ?? true,
    concurrency: options.concurrency ?? availableParallelism(),
    manifestFile: options.manifestFile ?? 'manifest.json',
  };
  invariant(
    resolved.outDir !== resolved.inputDir,
    'optimizeAssets: outDir must differ from inputDir (outputs would be re-read as inputs)',
  );
  invariant(
    resolved.algorithms.every((a) => a === 'br' || a === 'gzip'),
    "optimizeAssets: compress takes 'br' and/or 'gzip'",
  );
  invariant(
    Number.isInteger(resolved.hashLength) && resolved.hashLength >= 4 && resolved.hashLength <= 64,
    'optimizeAssets: hashLength must be 4-64',
  );
  invariant(
    Number.isInteger(resolved.concurrency) && resolved.concurrency >= 1,
    'optimizeAssets: concurrency must be an integer >= 1',
  );
  invariant(typeof resolved.keepNames === 'function', 'optimizeAssets: keepNames must be a function');
  return resolved;
}

/**
 * Optimizes every file under `inputDir` into `outDir`: minified JS/CSS/SVG, re-encoded images with
 * WebP/AVIF variants, brotli and gzip variants of text, content-hashed names with the references
 * in CSS, HTML and JS pointed at them, and a manifest (the flat name map; sizes via `assetStats`).
 * Unchanged inputs are skipped on the next run.
 */
export async function optimizeAssets(options: OptimizeAssetsOptions): Promise<AssetManifest> {
  const o = checkOptions(options);
  if (!existsSync(o.inputDir) || !(await stat(o.inputDir)).isDirectory())
    throw new NoaError(
      'NOA_ASSETS_INPUT_NOT_FOUND',
      `optimizeAssets: inputDir ${o.inputDir} is not a directory`,
    );
  const optionsKey = sha256(
    JSON.stringify({
      minify: o.minify,
      images: o.images,
      algorithms: o.algorithms,
      hash: o.hash,
      hashLength: o.hashLength,
      keepNames: String(o.keepNames),
    }),
  );
  const cacheFile = join(o.outDir, CACHE_FILE);
  const previous = o.incremental ? await readCache(cacheFile, optionsKey) : undefined;
  const files = await listFiles(o.inputDir, o.outDir);
  const jobs = files.map((file): Job => {
    const source = relative(o.inputDir, file).split(sep).join('/');
    const ext = extname(source).toLowerCase();
    return { source, file, ext, type: assetType(ext), keepName: !o.hash || o.keepNames(source), targets: [] };
  });
  const jobOf = new Map(jobs.map((job) => [job.source, job]));
  const known = new Set(jobOf.keys());
  const filesKey = sha256(JSON.stringify([...known]));
  const limit = createLimit(o.concurrency);
  const entries: CacheFile['entries'] = {};
  const records = new Map<string, Promise<AssetRecord>>();
  const imageOptions = o.images || undefined;
  const formats = (['avif', 'webp'] as const).filter((f) => imageOptions?.[f]);

  const write = async (relativePath: string, data: Buffer | string) => {
    const target = join(o.outDir, relativePath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  };

  const read = async (job: Job) => {
    const input = await limit.run(() => readFile(job.file));
    job.input = input;
    job.inputHash = sha256(input);
    const cached = previous?.entries[job.source];
    const sameFiles = previous?.filesKey === filesKey || !HAS_REFERENCES.has(job.type);
    if (
      sameFiles &&
      cached?.inputHash === job.inputHash &&
      [cached.record.output, ...cached.record.variants.map((v) => v.file)].every((f) =>
        existsSync(join(o.outDir, f)),
      )
    )
      job.cached = cached;
  };

  const skip = (job: Job): AssetRecord => {
    const record = { ...job.cached!.record, skipped: true };
    entries[job.source] = { ...job.cached!, record };
    return record;
  };

  /** Writes an output, its image variants and compressed variants; records it for the manifest and cache. */
  const publish = async (
    job: Job,
    output: Buffer,
    images: [format: string, data: Buffer][],
    targets: Record<string, string>,
    contentHash = sha256(output),
  ): Promise<AssetRecord> => {
    const outputName = job.keepName ? job.source : hashedName(job.source, contentHash, o.hashLength);
    const compressed = isCompressible(job.ext)
      ? await Promise.all(o.algorithms.map((a) => limit.run(() => compress(output, a), true)))
      : [];
    const variants: AssetVariant[] = [];
    const writes = [write(outputName, output)];
    for (const [kind, data] of images) {
      const hash = sha256(data);
      const file = job.keepName
        ? variantKey(job.source, kind)
        : hashedName(job.source, hash, o.hashLength, `.${kind}`);
      writes.push(write(file, data));
      variants.push({ kind, file, bytes: data.byteLength, hash });
    }
    o.algorithms.forEach((algorithm, i) => {
      const data = compressed[i]!;
      // A variant larger than the original is never what a CDN should serve.
      if (!data || data.byteLength >= output.byteLength) return;
      const file = `${outputName}.${algorithm === 'gzip' ? 'gz' : 'br'}`;
      writes.push(write(file, data));
      variants.push({ kind: algorithm, file, bytes: data.byteLength });
    });
    await Promise.all(writes);
    const record: AssetRecord = {
      source: job.source,
      output: outputName,
      type: job.type,
      hash: contentHash,
      bytesBefore: job.input!.byteLength,
      bytesAfter: output.byteLength,
      variants,
      references: Object.keys(targets).sort(),
      skipped: false,
    };
    entries[job.source] = { inputHash: job.inputHash!, record, targets };
    return record;
  };

  /** Files without references: their name depends on their own bytes only. */
  const processLeaf = async (job: Job): Promise<AssetRecord> => {
    await read(job);
    if (job.cached) return skip(job);
    const input = job.input!;
    const variantFormats = job.type === 'image' && /^\.(png|jpe?g)$/.test(job.ext) ? formats : [];
    // The re-encode and each variant are separate tool runs, so they use separate cores; the
    // re-encode is queued first as it is the longest (PNG quantisation).
    const [output, ...images] = await Promise.all([
      limit.run(() => transformLeaf(job, input), true),
      ...variantFormats.map((format) => limit.run(() => imageVariant(input, format, imageOptions!), true)),
    ]);
    return publish(
      job,
      output,
      variantFormats.map((format, i) => [format, images[i]!]),
      {},
    );
  };

  const transformLeaf = async (job: Job, input: Buffer): Promise<Buffer> => {
    if (!o.minify) return input;
    if (job.type === 'svg') return optimizeSvg(input, job.source);
    if (job.type === 'image') return optimizeImage(input, job.ext, o.images ? (o.images.quality ?? 80) : 80);
    return input;
  };

  const templateOf = async (job: Job): Promise<Template> => {
    const input = job.input!;
    if (job.type === 'css') {
      const css = await cssWithDependencies(input, job.source, o.minify);
      return cssTemplate(css.code, css.dependencies, job.source, known);
    }
    if (job.type === 'js')
      return jsTemplate(
        o.minify ? await minifyJs(input, job.source) : input.toString('utf8'),
        job.source,
        known,
      );
    return htmlTemplate(input.toString('utf8'), job.source, known);
  };

  /** A reference to an HTML document keeps its name whatever the document's content. */
  const fixedName = (target: string) => {
    const job = jobOf.get(target)!;
    return job.type === 'html' && job.keepName;
  };

  const prepareText = async (job: Job) => {
    await read(job);
    if (job.cached) {
      job.targets = Object.keys(job.cached.targets).filter((t) => known.has(t) && !fixedName(t));
      return;
    }
    job.template = await limit.run(() => templateOf(job), true);
    job.targets = [...new Set(job.template.references.map((r) => r.target).filter((t) => !fixedName(t)))];
  };

  /** Hashes and writes one strongly connected group of text files (one file, or an import cycle). */
  const finalize = async (members: Job[]): Promise<Map<string, AssetRecord>> => {
    const inside = new Set(members.map((m) => m.source));
    const deps = new Map<string, AssetRecord>();
    const external = new Set(members.flatMap((m) => m.targets.filter((t) => !inside.has(t))));
    await Promise.all(
      [...external].map(async (target) => {
        try {
          deps.set(target, await records.get(target)!);
        } catch {
          throw new DependencyFailed(target);
        }
      }),
    );
    const nameOf = (target: string, planned?: Map<string, string>) =>
      fixedName(target) ? target : (planned?.get(target) ?? cacheBustedName(deps.get(target)!));
    // Unchanged input whose references still resolve to the same names: nothing to redo.
    const unchanged = members.every(
      (m) =>
        m.cached &&
        Object.entries(m.cached.targets).every(
          ([target, name]) => inside.has(target) || (known.has(target) && nameOf(target) === name),
        ),
    );
    if (unchanged) return new Map(members.map((m) => [m.source, skip(m)]));
    await Promise.all(
      members.map(async (m) => {
        m.template ??= await limit.run(() => templateOf(m), true);
      }),
    );
    let planned: Map<string, string> | undefined;
    const hashes = new Map<string, string>();
    if (members.length > 1 || members[0]!.targets.includes(members[0]!.source)) {
      // An import cycle: one hash over all members, their references to each other left as names,
      // so a change in any member renames them all.
      const cycle = sha256(
        members
          .map((m) => {
            const text = renderTemplate(m.template!, (ref) =>
              inside.has(ref.target) ? `\0${ref.target}` : rewriteSpec(ref.spec, nameOf(ref.target)),
            );
            return `${m.source}\0${text}`;
          })
          .join('\0'),
      );
      planned = new Map();
      for (const m of members) {
        const hash = sha256(`${cycle}\0${m.source}`);
        hashes.set(m.source, hash);
        const output = m.keepName ? m.source : hashedName(m.source, hash, o.hashLength);
        planned.set(m.source, cacheBustedName({ source: m.source, output, hash, type: m.type }));
      }
    }
    const out = new Map<string, AssetRecord>();
    await Promise.all(
      members.map(async (m) => {
        const targets: Record<string, string> = {};
        const text = renderTemplate(m.template!, (ref) => {
          const name = nameOf(ref.target, planned);
          targets[ref.target] = name;
          return rewriteSpec(ref.spec, name);
        });
        out.set(m.source, await publish(m, Buffer.from(text), [], targets, hashes.get(m.source)));
      }),
    );
    return out;
  };

  const settle = (source: string, promise: Promise<AssetRecord>) => {
    promise.catch(noop); // awaited later; not an unhandled rejection meanwhile
    records.set(source, promise);
  };

  const order = [...jobs].sort((a, b) => priority(a) - priority(b));
  const texts: Job[] = [];
  const preparing: Promise<void>[] = [];
  for (const job of order) {
    if (!HAS_REFERENCES.has(job.type)) settle(job.source, processLeaf(job));
    else {
      const prepared = prepareText(job);
      preparing.push(
        prepared.then(
          () => {
            texts.push(job);
          },
          (error) => settle(job.source, Promise.reject(error)),
        ),
      );
    }
  }
  await Promise.all(preparing);
  // Dependencies first: when a group is hashed, the names it references are known or on their way.
  const textSet = new Set(texts.map((j) => j.source));
  const groups = stronglyConnected(texts.map((j) => j.source).sort(), (source) =>
    jobOf.get(source)!.targets.filter((t) => textSet.has(t)),
  );
  for (const group of groups) {
    const done = finalize(group.map((s) => jobOf.get(s)!));
    for (const source of group)
      settle(
        source,
        done.then((m) => m.get(source)!),
      );
  }

  const sources = [...known].sort();
  const settled = await Promise.allSettled(sources.map((s) => records.get(s)!));
  await mkdir(o.outDir, { recursive: true });
  // Saved even when some files failed, so their successful neighbours are skipped next time.
  const cache: CacheFile = { version: CACHE_VERSION, optionsKey, filesKey, entries };
  await writeFile(cacheFile, JSON.stringify(cache));
  const errors: string[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    const error = result.reason as NoaError;
    if (error?.code === 'NOA_ASSETS_MISSING_DEPENDENCY') throw error;
    errors.push(
      `${sources[i]}: ${error instanceof DependencyFailed ? `not written: ${error.message}` : error?.message}`,
    );
  });
  if (errors.length > 0)
    throw new NoaError(
      'NOA_ASSETS_TRANSFORM_FAILED',
      `optimizeAssets: ${errors.length} file(s) could not be optimized; fix them and run again:\n${errors.join('\n')}`,
    );

  const manifest: AssetManifest = {};
  const assets: Record<string, AssetRecord> = {};
  const totals: AssetTotals = {
    files: 0,
    processed: 0,
    skipped: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    bytesSaved: 0,
    brotliBytes: 0,
    gzipBytes: 0,
  };
  for (const result of settled) {
    const record = (result as PromiseFulfilledResult<AssetRecord>).value;
    manifest[record.source] = record.output;
    assets[record.source] = record;
    totals.files++;
    if (record.skipped) totals.skipped++;
    else totals.processed++;
    totals.bytesBefore += record.bytesBefore;
    totals.bytesAfter += record.bytesAfter;
    for (const v of record.variants) {
      if (v.kind === 'br') totals.brotliBytes += v.bytes;
      if (v.kind === 'gzip') totals.gzipBytes += v.bytes;
    }
  }
  // Variants after every source, so a real file named like a variant key keeps its own entry.
  for (const record of Object.values(assets))
    for (const v of record.variants) {
      const key = variantKey(record.source, v.kind);
      if (v.hash && !Object.hasOwn(manifest, key)) manifest[key] = v.file;
    }
  totals.bytesSaved = totals.bytesBefore - totals.bytesAfter;
  if (o.manifestFile) await write(o.manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return withStats(manifest, { assets, totals });
}
