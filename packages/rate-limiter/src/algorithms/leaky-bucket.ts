import { type AlgorithmImpl, EPSILON, LUA_EPSILON } from './algorithm.js';

interface LeakyBucketState {
  level: number;
  at: number;
}

/**
 * Leaky bucket (as a meter): each request pours `cost` into a bucket of size `burst` that drains
 * at `limit / windowMs`; a request that would overflow is denied. It admits what a token bucket of
 * the same rate and burst admits; the state is the fill level, so `resetMs` is the time to drain.
 */
export const leakyBucket: AlgorithmImpl<LeakyBucketState> = {
  apply(state, now, { limit, windowMs, burst }, op, amount, out) {
    const rate = limit / windowMs;
    let level = state ? Math.max(0, state.level - Math.max(0, now - state.at) * rate) : 0;
    let changed = true;
    out.allowed = level + amount <= burst + EPSILON;
    out.retryAfterMs = out.allowed ? 0 : Math.ceil((level + amount - burst) / rate);
    if (op === 'consume' && out.allowed) level += amount;
    else if (op === 'penalty') level += amount;
    else if (op === 'reward') level = Math.max(0, level - amount);
    else changed = false;
    if (op === 'penalty' || op === 'reward') {
      out.allowed = true;
      out.retryAfterMs = 0;
    }
    out.remaining = Math.max(0, Math.floor(burst - level + EPSILON));
    out.resetMs = Math.ceil(level / rate);
    if (!changed) return undefined;
    if (state) {
      // In place: the memory store keeps this object, so a decision allocates no new state.
      state.level = level;
      state.at = now;
      return state;
    }
    return { level, at: now };
  },
  lua: `
local function leaky_bucket(state, now, limit, windowMs, burst, op, amount)
  local rate = limit / windowMs
  local level = 0
  if state then
    local l, at = string.match(state, '^(%S+) (%S+)$')
    level = math.max(0, tonumber(l) - math.max(0, now - tonumber(at)) * rate)
  end
  local allowed = level + amount <= burst + ${LUA_EPSILON}
  local retry = 0
  if not allowed then retry = math.ceil((level + amount - burst) / rate) end
  local changed = true
  if op == 'consume' and allowed then level = level + amount
  elseif op == 'penalty' then level = level + amount
  elseif op == 'reward' then level = math.max(0, level - amount)
  else changed = false end
  if op == 'penalty' or op == 'reward' then allowed = true retry = 0 end
  local remaining = math.max(0, math.floor(burst - level + ${LUA_EPSILON}))
  local reset = math.ceil(level / rate)
  local newState = false
  if changed then newState = string.format('%.17g %.17g', level, now) end
  return newState, allowed and 1 or 0, remaining, reset, retry
end
`,
};
