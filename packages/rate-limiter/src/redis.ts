export { RedisStore, type RedisStoreOptions, redisStore } from './stores/redis.js';
export { RATE_LIMIT_SCRIPTS, type RateLimitScript } from './stores/redis-script.js';
