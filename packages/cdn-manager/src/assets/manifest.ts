import { invariant } from '@noa/core';
import type { AssetType } from './transforms.js';

export interface AssetVariant {
  /** 'br', 'gzip', 'webp' or 'avif'. */
  kind: string;
  /** Path relative to outDir. */
  file: string;
  bytes: number;
}

export interface AssetRecord {
  /** Path relative to inputDir, with forward slashes. */
  source: string;
  /** Path relative to outDir (content-hashed when `hash` is on). */
  output: string;
  type: AssetType;
  /** Content hash of the output (hex). */
  hash: string;
  bytesBefore: number;
  bytesAfter: number;
  variants: AssetVariant[];
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

export interface AssetManifest {
  /** Source name -> output name: { 'app.js': 'app.3f9a1c2e.js' }. */
  files: Record<string, string>;
  /** Everything known per source: sizes before/after, hash, variants. */
  assets: Record<string, AssetRecord>;
  totals: AssetTotals;
}

export interface AssetUrlOptions {
  /** Prefix: 'https://cdn.example.com/static/' or '/static/'. Default '/'. */
  baseUrl?: string;
  /** Pick a variant ('webp', 'avif'); falls back to the original when there is none. */
  variant?: string;
}

/**
 * The cache-busting URL of an asset: its content-hashed name under `baseUrl`, or, when names are not
 * hashed, the plain name with `?v=<hash>`. Either way the URL changes exactly when the content does.
 */
export function assetUrl(manifest: AssetManifest, name: string, options: AssetUrlOptions = {}): string {
  const key = name.replace(/^\/+/, '');
  const record = manifest.assets[key];
  invariant(record, `assetUrl: "${name}" is not in the manifest; was it in inputDir?`, 'NOA_ASSETS_UNKNOWN');
  const base = options.baseUrl ?? '/';
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const variant = options.variant ? record.variants.find((v) => v.kind === options.variant) : undefined;
  const file = variant?.file ?? record.output;
  return record.output === record.source && !variant
    ? `${prefix}${file}?v=${record.hash.slice(0, 8)}`
    : `${prefix}${file}`;
}
