import { createHash } from 'node:crypto';
import { ALGORITHM_NAMES, algorithms } from '../algorithms/index.js';
import type { Algorithm } from '../types.js';

export interface RateLimitScript {
  source: string;
  sha: string;
}

/**
 * The script one decision runs, for one algorithm (one script each, so a call defines only the
 * function it uses). KEYS = state, block, log, violations (all sharing a hash tag, so Cluster keeps
 * them in one slot; the log comes only for the sliding window, violations only when blocking after
 * violations, all four for reset and block). ARGV = operation, amount, limit, windowMs, burst,
 * blockAfterViolations, blockDurationMs, the trailing ones left out when they are the defaults
 * (burst = limit, no blocking): fewer arguments, cheaper calls. Time is the Redis server's (TIME, and
 * key expiry), so application hosts' clocks never matter. The block is a key whose expiry is its end.
 * Returns {verdict, remaining, resetMs, retryAfterMs}, verdict 1 allowed, 0 limited, 2 blocked.
 */
function scriptFor(algorithm: Algorithm): string {
  return `
-- Redis < 7 replicates scripts verbatim unless told otherwise, which a script reading TIME must not be.
if redis.replicate_commands then redis.replicate_commands() end
${algorithms[algorithm].lua}
local stateKey, blockKey, logKey, violationsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, amount = ARGV[1], tonumber(ARGV[2])
if op == 'reset' then
  redis.call('DEL', stateKey, blockKey, logKey, violationsKey)
  return {1, 0, 0, 0}
end
if op == 'block' then
  redis.call('SET', blockKey, 1, 'PX', amount)
  redis.call('DEL', violationsKey)
  return {2, 0, amount, amount}
end
if op == 'consume' or op == 'peek' then
  local left = redis.call('PTTL', blockKey)
  if left > 0 then return {2, 0, left, left} end
end
local limit, windowMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local burst = tonumber(ARGV[5]) or limit
local allowed, remaining, reset, retry = decide(op, amount, limit, windowMs, burst, stateKey, logKey)
local blockAfter = tonumber(ARGV[6])
if blockAfter and op == 'consume' and allowed == 0 then
  local violations = redis.call('INCR', violationsKey)
  if violations == 1 then redis.call('PEXPIRE', violationsKey, windowMs) end
  if violations >= blockAfter then
    local blockMs = tonumber(ARGV[7])
    redis.call('SET', blockKey, 1, 'PX', blockMs)
    redis.call('DEL', violationsKey)
    return {2, remaining, blockMs, blockMs}
  end
end
return {allowed, remaining, reset, retry}
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
