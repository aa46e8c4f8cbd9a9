import { createHash } from 'node:crypto';
import { algorithms, luaNames } from '../algorithms/index.js';
import type { Algorithm } from '../types.js';

const dispatch = (Object.keys(luaNames) as Algorithm[])
  .map((name) => `  ['${name}'] = ${luaNames[name]},`)
  .join('\n');

/**
 * The one script every decision runs: KEYS = state, log, block, violations (all sharing a hash
 * tag, so Cluster keeps them in one slot); ARGV = algorithm, operation, amount, limit, windowMs,
 * burst, blockAfterViolations, blockDurationMs. Time is the Redis server's (TIME), so the clocks of
 * the application hosts never matter. Returns {allowed, remaining, resetMs, retryAfterMs, blocked}.
 */
export const RATE_LIMIT_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
${Object.values(algorithms)
  .map((a) => a.lua)
  .join('')}
local ALGORITHMS = {
${dispatch}
}
local stateKey, logKey, blockKey, violationsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local algorithm, op = ARGV[1], ARGV[2]
local amount, limit, windowMs, burst = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local blockAfter, blockMs = tonumber(ARGV[7]), tonumber(ARGV[8])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

if op == 'reset' then
  redis.call('DEL', stateKey, logKey, blockKey, violationsKey)
  return {1, burst, 0, 0, 0}
end
if op == 'block' then
  redis.call('SET', blockKey, '1', 'PX', amount)
  redis.call('DEL', violationsKey)
  return {0, 0, amount, amount, 1}
end
if op == 'consume' or op == 'peek' then
  local blocked = redis.call('PTTL', blockKey)
  if blocked > 0 then return {0, 0, blocked, blocked, 1} end
end

local fn = ALGORITHMS[algorithm]
if not fn then return redis.error_reply('NOA unknown algorithm ' .. tostring(algorithm)) end
local newState, allowed, remaining, reset, retry =
  fn(redis.call('GET', stateKey), now, limit, windowMs, burst, op, amount, logKey)
if newState then
  if reset > 0 then redis.call('SET', stateKey, newState, 'PX', reset) else redis.call('DEL', stateKey) end
end
if op == 'consume' and allowed == 0 and blockAfter > 0 then
  local violations = redis.call('INCR', violationsKey)
  if violations == 1 then redis.call('PEXPIRE', violationsKey, windowMs) end
  if violations >= blockAfter then
    redis.call('SET', blockKey, '1', 'PX', blockMs)
    redis.call('DEL', violationsKey)
    return {0, remaining, blockMs, blockMs, 1}
  end
end
return {allowed, remaining, reset, retry, 0}
`;

export const RATE_LIMIT_SCRIPT_SHA = createHash('sha1').update(RATE_LIMIT_SCRIPT).digest('hex');
