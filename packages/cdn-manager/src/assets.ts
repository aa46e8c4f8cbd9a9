export {
  type AssetManifest,
  type AssetRecord,
  type AssetStats,
  type AssetTotals,
  type AssetUrlOptions,
  type AssetVariant,
  assetStats,
  assetUrl,
} from './assets/manifest.js';
export { defaultKeepNames, type OptimizeAssetsOptions, optimizeAssets } from './assets/optimize.js';
export type { AssetType, ImageOptions } from './assets/transforms.js';
