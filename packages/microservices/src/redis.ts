export { type RedisRegistryOptions, redisRegistry } from './backends/redis.js';
