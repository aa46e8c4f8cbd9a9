export {
  type AssetManifest,
  type AssetRecord,
  type AssetTotals,
  type AssetUrlOptions,
  type AssetVariant,
  assetUrl,
} from './assets/manifest.js';
export { type OptimizeAssetsOptions, optimizeAssets } from './assets/optimize.js';
export type { AssetType, ImageOptions } from './assets/transforms.js';
