export { RedisStore, type RedisStoreOptions, redisStore } from './stores/redis.js';
export { RATE_LIMIT_SCRIPT, RATE_LIMIT_SCRIPT_SHA } from './stores/redis-script.js';
