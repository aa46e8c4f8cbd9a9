import { invariant } from '@noa/core';
import type { AssetType } from './transforms.js';

export interface AssetVariant {
  /** 'br', 'gzip', 'webp' or 'avif'. */
  kind: string;
  /** Path relative to outDir. */
  file: string;
  bytes: number;
  /** Content hash (hex) of WebP/AVIF variants, which have names of their own. */
  hash?: string;
}

export interface AssetRecord {
  /** Path relative to inputDir, with forward slashes. */
  source: string;
  /** Path relative to outDir (content-hashed unless the name is kept). */
  output: string;
  type: AssetType;
  /** Content hash of the output (hex); for files in an import cycle, the cycle's hash. */
  hash: string;
  bytesBefore: number;
  bytesAfter: number;
  variants: AssetVariant[];
  /** Other assets this one references (CSS url()/@import, HTML src/href/srcset, JS imports), rewritten to their output names. */
  references: string[];
  /** True when the input was unchanged since the last run and its outputs were reused. */
  skipped: boolean;
}

export interface AssetTotals {
  files: number;
  processed: number;
  skipped: number;
  bytesBefore: number;
  bytesAfter: number;
  bytesSaved: number;
  /** Sum of the br / gzip variants, for what a compressing CDN would actually send. */
  brotliBytes: number;
  gzipBytes: number;
}

/** What a run measured: per asset and in total. */
export interface AssetStats {
  assets: Record<string, AssetRecord>;
  totals: AssetTotals;
}

/**
 * Source name -> output name, and nothing else: `manifest['app.js'] === 'app.3f9a1c2e.js'`,
 * `JSON.stringify(manifest)` is the flat map servers and templates read. WebP/AVIF variants are
 * listed as `'<source>.webp'` / `'<source>.avif'`. Sizes are read with `assetStats(manifest)`.
 */
export type AssetManifest = Record<string, string>;

/**
 * The stats ride on the manifest under a symbol, not enumerable: they cannot collide with a file
 * name, and JSON, spread and Object.keys see only the name map. Symbol.for, so the ESM and CJS
 * builds of this package read each other's manifests.
 */
const STATS = Symbol.for('@noa/cdn-manager/asset-stats');

export function withStats(manifest: AssetManifest, stats: AssetStats): AssetManifest {
  Object.defineProperty(manifest, STATS, { value: stats, enumerable: false });
  return manifest;
}

const statsOf = (manifest: AssetManifest): AssetStats | undefined =>
  (manifest as { [STATS]?: AssetStats })[STATS];

/**
 * Sizes before/after, hashes, variants and totals of the run that produced `manifest`. Only the
 * object `optimizeAssets` returned carries them: a manifest parsed from manifest.json is the name
 * map alone.
 */
export function assetStats(manifest: AssetManifest): AssetStats {
  const stats = manifest ? statsOf(manifest) : undefined;
  invariant(
    stats,
    'assetStats: this manifest carries no stats; pass the object optimizeAssets returned (manifest.json holds names only)',
    'NOA_ASSETS_NO_STATS',
  );
  return stats;
}

/** The manifest key of an image variant: `img/a.png` -> `img/a.png.webp`. */
export const variantKey = (source: string, kind: string) => `${source}.${kind}`;

/**
 * The name an asset is referenced by: its content-hashed name; when its name is kept, the name
 * plus `?v=<hash>`, except documents (HTML), which are entry points and revalidated, never versioned.
 */
export function cacheBustedName(record: Pick<AssetRecord, 'source' | 'output' | 'hash' | 'type'>): string {
  if (record.output !== record.source || record.type === 'html') return record.output;
  return `${record.output}?v=${record.hash.slice(0, 8)}`;
}

export interface AssetUrlOptions {
  /** Prefix: 'https://cdn.example.com/static/' or '/static/'. Default '/'. */
  baseUrl?: string;
  /** Pick a variant ('webp', 'avif'); falls back to the original when there is none. */
  variant?: string;
}

/**
 * The cache-busting URL of an asset: its content-hashed name under `baseUrl`, or, when its name is
 * kept, the plain name with `?v=<hash>`. Either way the URL changes exactly when the content does.
 * Works on the manifest `optimizeAssets` returned and on a parsed manifest.json (which, without the
 * hashes, gives kept names without `?v=`).
 */
export function assetUrl(manifest: AssetManifest, name: string, options: AssetUrlOptions = {}): string {
  const key = name.replace(/^\/+/, '');
  invariant(
    manifest && Object.hasOwn(manifest, key),
    `assetUrl: "${name}" is not in the manifest; was it in inputDir?`,
    'NOA_ASSETS_UNKNOWN',
  );
  const base = options.baseUrl ?? '/';
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const record = statsOf(manifest)?.assets[key];
  const variant = options.variant ? record?.variants.find((v) => v.kind === options.variant) : undefined;
  if (record)
    return `${prefix}${
      variant?.hash
        ? cacheBustedName({
            source: variantKey(key, variant.kind),
            output: variant.file,
            hash: variant.hash,
            type: 'image',
          })
        : cacheBustedName(record)
    }`;
  const wanted = options.variant ? variantKey(key, options.variant) : key;
  return `${prefix}${manifest[Object.hasOwn(manifest, wanted) ? wanted : key]}`;
}
