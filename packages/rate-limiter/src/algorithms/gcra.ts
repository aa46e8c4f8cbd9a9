import { type AlgorithmImpl, EPSILON, LUA_EPSILON, LUA_METER, spend } from './algorithm.js';

/**
 * GCRA (generic cell rate algorithm): one number per key, the theoretical arrival time (TAT) of
 * the next request. Each unit of cost advances it by `windowMs / limit`; a request passes while
 * the TAT stays within `burst` intervals of now. Same admissions as a token bucket, one number of state.
 */
export const gcra: AlgorithmImpl<number> = {
  apply(state, now, { limit, windowMs, burst }, op, amount, out) {
    const interval = windowMs / limit;
    const tolerance = burst * interval;
    // Capacity in use, in time: how far the TAT is ahead of now.
    const ahead = state === undefined ? 0 : Math.max(0, state - now);
    const next = spend(op, ahead, amount * interval, tolerance, out);
    out.retryAfterMs = out.allowed ? 0 : Math.ceil(ahead + amount * interval - tolerance);
    const kept = Number.isNaN(next) ? ahead : next;
    out.remaining = Math.max(0, Math.floor((tolerance - kept) / interval + EPSILON));
    out.resetMs = Math.ceil(kept);
    return Number.isNaN(next) ? undefined : now + next;
  },
  lua: `${LUA_METER}
local function decide(op, amount, limit, windowMs, burst, stateKey)
  local now = clock()
  local state = redis.call('GET', stateKey)
  local interval = windowMs / limit
  local tolerance = burst * interval
  local ahead = 0
  if state then ahead = math.max(0, tonumber(state) - now) end
  local nextAhead, allowed = spend(op, ahead, amount * interval, tolerance)
  local retry = 0
  if not allowed then retry = math.ceil(ahead + amount * interval - tolerance) end
  local kept = nextAhead or ahead
  local remaining = math.max(0, math.floor((tolerance - kept) / interval + ${LUA_EPSILON}))
  if nextAhead then save(stateKey, string.format('%.17g', now + nextAhead), math.ceil(nextAhead)) end
  return allowed and 1 or 0, remaining, math.ceil(kept), retry
end
`,
};
