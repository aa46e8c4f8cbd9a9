export { type RedisBusOptions, redisBus } from './buses/redis.js';
export { type RedisClient, type RedisTier, type RedisTierOptions, redisTier } from './tiers/redis.js';
