import { type AlgorithmImpl, spend } from './algorithm.js';

interface FixedWindowState {
  count: number;
  start: number;
}

/**
 * Fixed window: a counter that starts with the key's first request and resets `windowMs` later.
 * The cheapest algorithm, but a client can spend `limit` at the end of one window and `limit`
 * again at the start of the next: up to 2 × limit in a rolling window.
 */
export const fixedWindow: AlgorithmImpl<FixedWindowState> = {
  apply(state, now, { limit, windowMs }, op, amount, out) {
    const live = state !== undefined && now < state.start + windowMs;
    const count = live ? state.count : 0;
    const start = live ? state.start : now;
    const next = spend(op, count, amount, limit, out);
    out.retryAfterMs = out.allowed ? 0 : Math.ceil(start + windowMs - now);
    const kept = Number.isNaN(next) ? count : next;
    out.remaining = Math.max(0, limit - kept);
    out.resetMs = kept > 0 ? Math.ceil(start + windowMs - now) : 0;
    if (Number.isNaN(next)) return undefined;
    if (state) {
      // In place: the memory store keeps this object, so a decision allocates no new state.
      state.count = next;
      state.start = start;
      return state;
    }
    return { count: next, start };
  },
  // A Redis counter whose expiry is the window's end (server time, no clock read): INCRBY first, the
  // cost taken back on a denial, so the common admit is one write and one read.
  lua: `
local function decide(op, amount, limit, windowMs, burst, stateKey)
  if (op == 'consume' and amount > 0) or op == 'penalty' then
    local count = redis.call('INCRBY', stateKey, amount)
    local ttl = windowMs
    if count == amount then redis.call('PEXPIRE', stateKey, windowMs)
    else
      ttl = redis.call('PTTL', stateKey)
      if ttl < 0 then ttl = windowMs redis.call('PEXPIRE', stateKey, windowMs) end
    end
    if count <= limit then return 1, limit - count, ttl, 0 end
    if op == 'penalty' then return 1, 0, ttl, 0 end
    count = redis.call('DECRBY', stateKey, amount)
    if count > 0 then return 0, math.max(0, limit - count), ttl, ttl end
    redis.call('DEL', stateKey)
    return 0, limit, 0, ttl
  end
  if op == 'reward' then
    local count = redis.call('DECRBY', stateKey, amount)
    if count <= 0 then redis.call('DEL', stateKey) return 1, limit, 0, 0 end
    return 1, math.max(0, limit - count), redis.call('PTTL', stateKey), 0
  end
  -- peek, or a consume of 0: read only
  local count = tonumber(redis.call('GET', stateKey)) or 0
  local ttl = 0
  if count > 0 then ttl = redis.call('PTTL', stateKey) end
  if count + amount <= limit then return 1, math.max(0, limit - count), ttl, 0 end
  return 0, math.max(0, limit - count), ttl, ttl > 0 and ttl or windowMs
end
`,
};
