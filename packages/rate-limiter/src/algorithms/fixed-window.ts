import type { AlgorithmImpl } from './algorithm.js';

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
    let count = live ? state.count : 0;
    const start = live ? state.start : now;
    let changed = true;
    out.allowed = count + amount <= limit;
    out.retryAfterMs = out.allowed ? 0 : Math.ceil(start + windowMs - now);
    if (op === 'consume' && out.allowed) count += amount;
    else if (op === 'penalty') count += amount;
    else if (op === 'reward') count = Math.max(0, count - amount);
    else changed = false;
    if (op === 'penalty' || op === 'reward') {
      out.allowed = true;
      out.retryAfterMs = 0;
    }
    out.remaining = Math.max(0, limit - count);
    out.resetMs = count > 0 ? Math.ceil(start + windowMs - now) : 0;
    if (!changed) return undefined;
    if (state) {
      // In place: the memory store keeps this object, so a decision allocates no new state.
      state.count = count;
      state.start = start;
      return state;
    }
    return { count, start };
  },
  lua: `
local function fixed_window(state, now, limit, windowMs, burst, op, amount)
  local count, start = 0, now
  if state then
    local c, s = string.match(state, '^(%S+) (%S+)$')
    if now < tonumber(s) + windowMs then count, start = tonumber(c), tonumber(s) end
  end
  local allowed = count + amount <= limit
  local retry = 0
  if not allowed then retry = math.ceil(start + windowMs - now) end
  local changed = true
  if op == 'consume' and allowed then count = count + amount
  elseif op == 'penalty' then count = count + amount
  elseif op == 'reward' then count = math.max(0, count - amount)
  else changed = false end
  if op == 'penalty' or op == 'reward' then allowed = true retry = 0 end
  local reset = 0
  if count > 0 then reset = math.ceil(start + windowMs - now) end
  local newState = false
  if changed then newState = string.format('%.17g %.17g', count, start) end
  return newState, allowed and 1 or 0, math.max(0, limit - count), reset, retry
end
`,
};
