import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { loadOptional } from './load.js';

export type AssetType = 'js' | 'css' | 'html' | 'svg' | 'image' | 'other';

const TEXT = new Set([
  '.js',
  '.mjs',
  '.cjs',
  '.css',
  '.svg',
  '.html',
  '.htm',
  '.json',
  '.xml',
  '.txt',
  '.map',
  '.webmanifest',
]);

export function assetType(ext: string): AssetType {
  switch (ext) {
    case '.js':
    case '.mjs':
    case '.cjs':
      return 'js';
    case '.css':
      return 'css';
    case '.html':
    case '.htm':
      return 'html';
    case '.svg':
      return 'svg';
    case '.png':
    case '.jpg':
    case '.jpeg':
    case '.webp':
    case '.avif':
      return 'image';
    default:
      return 'other';
  }
}

/** Whether gzip/brotli variants are worth making (text compresses; images are already compressed). */
export const isCompressible = (ext: string) => TEXT.has(ext);

export async function minifyJs(code: Buffer, file: string): Promise<string> {
  const esbuild = await loadOptional<typeof import('esbuild')>('esbuild', 'JavaScript');
  const result = await esbuild.transform(code.toString('utf8'), {
    minify: true,
    loader: 'js',
    sourcefile: file,
    legalComments: 'none',
  });
  return result.code;
}

/**
 * CSS through lightningcss (minified or just re-printed) with its `url()` and `@import` URLs
 * replaced by placeholders, so the references can be pointed at hashed names afterwards.
 */
export async function cssWithDependencies(
  code: Buffer,
  file: string,
  minify: boolean,
): Promise<{ code: string; dependencies: { url: string; placeholder: string }[] }> {
  const lightningcss = await loadOptional<typeof import('lightningcss')>('lightningcss', 'CSS');
  const result = lightningcss.transform({
    filename: file,
    code,
    minify,
    analyzeDependencies: { preserveImports: true },
  });
  const dependencies = (result.dependencies ?? []).flatMap((d) =>
    d.type === 'url' || d.type === 'import' ? [{ url: d.url, placeholder: d.placeholder }] : [],
  );
  return { code: result.code.toString(), dependencies };
}

export async function optimizeSvg(code: Buffer, file: string): Promise<Buffer> {
  const svgo = await loadOptional<typeof import('svgo')>('svgo', 'SVG');
  return Buffer.from(svgo.optimize(code.toString('utf8'), { path: file, multipass: true }).data);
}

export interface ImageOptions {
  webp?: boolean;
  avif?: boolean;
  /** 1-100. Default 80 (WebP, JPEG), AVIF uses quality - 20 as its scale is harsher. */
  quality?: number;
  /** AVIF encoder effort 0-9. Default 4. */
  avifEffort?: number;
}

type Sharp = typeof import('sharp').default;

async function sharpOf(): Promise<Sharp> {
  const mod = await loadOptional<{ default: Sharp }>('sharp', 'images');
  return mod.default ?? (mod as unknown as Sharp);
}

/**
 * Re-encodes the original: PNG at zlib level 9 with effort 10 (which makes sharp quantise to a
 * palette, libimagequant at quality 100), JPEG with mozjpeg at `quality`. Keeps it if not smaller.
 */
export async function optimizeImage(input: Buffer, ext: string, quality: number): Promise<Buffer> {
  const sharp = await sharpOf();
  let out: Buffer;
  if (ext === '.png') out = await sharp(input).png({ compressionLevel: 9, effort: 10 }).toBuffer();
  else if (ext === '.jpg' || ext === '.jpeg')
    out = await sharp(input).jpeg({ quality, mozjpeg: true }).toBuffer();
  else return input;
  return out.byteLength < input.byteLength ? out : input;
}

export async function imageVariant(
  input: Buffer,
  format: 'webp' | 'avif',
  options: ImageOptions,
): Promise<Buffer> {
  const sharp = await sharpOf();
  const quality = options.quality ?? 80;
  return format === 'webp'
    ? sharp(input).webp({ quality }).toBuffer()
    : sharp(input)
        .avif({ quality: Math.max(1, quality - 20), effort: options.avifEffort ?? 4 })
        .toBuffer();
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

export function compress(data: Buffer, algorithm: 'br' | 'gzip'): Promise<Buffer> {
  return algorithm === 'gzip'
    ? gzipAsync(data, { level: 9 })
    : brotliAsync(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
        },
      });
}
