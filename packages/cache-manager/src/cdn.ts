export {
  type CdnPurgeRequest,
  type CdnPurger,
  type CdnTier,
  type CdnTierOptions,
  cdnTier,
} from './tiers/cdn.js';
