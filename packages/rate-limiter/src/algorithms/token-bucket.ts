import { type AlgorithmImpl, EPSILON, LUA_EPSILON, LUA_METER, spend } from './algorithm.js';

interface BucketState {
  /** Capacity in use: `burst - tokens` for a token bucket, the fill level for a leaky bucket. */
  used: number;
  at: number;
}

/**
 * Token bucket: a bucket of `burst` tokens refilled at `limit / windowMs`; a request takes `cost`
 * tokens. Allows bursts up to `burst`, then the refill rate. Stored as the capacity in use and the
 * time it was computed, which is also exactly a leaky bucket (as a meter) draining at that rate.
 */
export const tokenBucket: AlgorithmImpl<BucketState> = {
  apply(state, now, { limit, windowMs, burst }, op, amount, out) {
    const rate = limit / windowMs;
    const used = state ? Math.max(0, state.used - Math.max(0, now - state.at) * rate) : 0;
    const next = spend(op, used, amount, burst, out);
    out.retryAfterMs = out.allowed ? 0 : Math.ceil((used + amount - burst) / rate);
    const kept = Number.isNaN(next) ? used : next;
    out.remaining = Math.max(0, Math.floor(burst - kept + EPSILON));
    out.resetMs = Math.max(0, Math.ceil(kept / rate));
    if (Number.isNaN(next)) return undefined;
    if (state) {
      // In place: the memory store keeps this object, so a decision allocates no new state.
      state.used = next;
      state.at = now;
      return state;
    }
    return { used: next, at: now };
  },
  lua: `${LUA_METER}
local function decide(op, amount, limit, windowMs, burst, stateKey)
  local now = clock()
  local state = redis.call('GET', stateKey)
  local rate = limit / windowMs
  local used = 0
  if state then
    local u, at = string.match(state, '^(%S+) (%S+)$')
    used = math.max(0, tonumber(u) - math.max(0, now - tonumber(at)) * rate)
  end
  local nextUsed, allowed = spend(op, used, amount, burst)
  local retry = 0
  if not allowed then retry = math.ceil((used + amount - burst) / rate) end
  local kept = nextUsed or used
  local remaining = math.max(0, math.floor(burst - kept + ${LUA_EPSILON}))
  local reset = math.max(0, math.ceil(kept / rate))
  if nextUsed then save(stateKey, string.format('%.17g %.17g', nextUsed, now), reset) end
  return allowed and 1 or 0, remaining, reset, retry
end
`,
};
