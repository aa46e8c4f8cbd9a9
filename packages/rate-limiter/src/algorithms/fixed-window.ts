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
  lua: `
local function decide(state, now, limit, windowMs, burst, op, amount)
  local count, start = 0, now
  if state then
    local c, s = string.match(state, '^(%S+) (%S+)$')
    if now < tonumber(s) + windowMs then count, start = tonumber(c), tonumber(s) end
  end
  local nextCount, allowed = spend(op, count, amount, limit)
  local retry = 0
  if not allowed then retry = math.ceil(start + windowMs - now) end
  local kept = nextCount or count
  local reset = 0
  if kept > 0 then reset = math.ceil(start + windowMs - now) end
  local newState = false
  if nextCount then newState = string.format('%.17g %.17g', nextCount, start) end
  return newState, allowed and 1 or 0, math.max(0, limit - kept), reset, retry
end
`,
};
