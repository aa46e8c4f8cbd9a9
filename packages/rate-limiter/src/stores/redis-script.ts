import { createHash } from 'node:crypto';
import { LUA_SPEND } from '../algorithms/algorithm.js';
import { ALGORITHM_NAMES, algorithms } from '../algorithms/index.js';
import type { Algorithm } from '../types.js';

export interface RateLimitScript {
  source: string;
  sha: string;
}

/**
 * The script one decision runs, for one algorithm (one script each, so a call defines only the
 * function it uses). KEYS = state, block, log, violations (all sharing a hash tag, so Cluster keeps
 * them in one slot); ARGV = operation, amount, limit, windowMs, burst, blockAfterViolations,
 * blockDurationMs. Time is the Redis server's (TIME), so application hosts' clocks never matter.
 * Returns {allowed, remaining, resetMs, retryAfterMs, blocked}.
 */
function scriptFor(algorithm: Algorithm): string {
  return `
if redis.replicate_commands then redis.replicate_commands() end
${LUA_SPEND}${algorithms[algorithm].lua}
-- KEYS[3] (log) comes only for the sliding window, KEYS[4] (violations) only when blocking after
-- violations; reset and block get all four.
local stateKey, blockKey, logKey, violationsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local amount, limit, windowMs, burst = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local blockAfter, blockMs = tonumber(ARGV[6]), tonumber(ARGV[7])

if op == 'reset' then
  redis.call('DEL', stateKey, logKey, blockKey, violationsKey)
  return {1, burst, 0, 0, 0}
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
if op == 'block' then
  -- The block key holds its end (server ms), so one MGET reads it with the state below.
  redis.call('SET', blockKey, string.format('%.17g', now + amount), 'PX', amount)
  redis.call('DEL', violationsKey)
  return {0, 0, amount, amount, 1}
end
local stored = redis.call('MGET', stateKey, blockKey)
if op == 'consume' or op == 'peek' then
  local blockedUntil = tonumber(stored[2])
  if blockedUntil and blockedUntil > now then
    local left = math.ceil(blockedUntil - now)
    return {0, 0, left, left, 1}
  end
end
local newState, allowed, remaining, reset, retry =
  decide(stored[1], now, limit, windowMs, burst, op, amount, logKey)
if newState then
  if reset > 0 then redis.call('SET', stateKey, newState, 'PX', reset) else redis.call('DEL', stateKey) end
end
if op == 'consume' and allowed == 0 and blockAfter > 0 then
  local violations = redis.call('INCR', violationsKey)
  if violations == 1 then redis.call('PEXPIRE', violationsKey, windowMs) end
  if violations >= blockAfter then
    redis.call('SET', blockKey, string.format('%.17g', now + blockMs), 'PX', blockMs)
    redis.call('DEL', violationsKey)
    return {0, remaining, blockMs, blockMs, 1}
  end
end
return {allowed, remaining, reset, retry, 0}
`;
}

export const RATE_LIMIT_SCRIPTS: Readonly<Record<Algorithm, RateLimitScript>> = Object.freeze(
  Object.fromEntries(
    ALGORITHM_NAMES.map((algorithm) => {
      const source = scriptFor(algorithm);
      return [algorithm, { source, sha: createHash('sha1').update(source).digest('hex') }];
    }),
  ) as Record<Algorithm, RateLimitScript>,
);
