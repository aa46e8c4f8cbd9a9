import { type AlgorithmImpl, EPSILON, LUA_EPSILON } from './algorithm.js';

/**
 * GCRA (generic cell rate algorithm): one number per key, the theoretical arrival time (TAT) of
 * the next request. Each unit of cost advances it by `windowMs / limit`; a request passes while
 * the TAT stays within `burst` intervals of now. Same admissions as a token bucket, half the state.
 */
export const gcra: AlgorithmImpl<number> = {
  apply(state, now, { limit, windowMs, burst }, op, amount, out) {
    const interval = windowMs / limit;
    const tolerance = burst * interval;
    let tat = state === undefined ? now : Math.max(state, now);
    const next = tat + amount * interval;
    let changed = true;
    out.allowed = next - now <= tolerance + EPSILON;
    out.retryAfterMs = out.allowed ? 0 : Math.ceil(next - tolerance - now);
    if (op === 'consume' && out.allowed) tat = next;
    else if (op === 'penalty') tat = next;
    else if (op === 'reward') tat = Math.max(now, tat - amount * interval);
    else changed = false;
    if (op === 'penalty' || op === 'reward') {
      out.allowed = true;
      out.retryAfterMs = 0;
    }
    out.remaining = Math.max(0, Math.floor((tolerance - (tat - now)) / interval + EPSILON));
    out.resetMs = Math.ceil(tat - now);
    return changed ? tat : undefined;
  },
  lua: `
local function gcra(state, now, limit, windowMs, burst, op, amount)
  local interval = windowMs / limit
  local tolerance = burst * interval
  local tat = now
  if state then tat = math.max(tonumber(state), now) end
  local nextTat = tat + amount * interval
  local allowed = nextTat - now <= tolerance + ${LUA_EPSILON}
  local retry = 0
  if not allowed then retry = math.ceil(nextTat - tolerance - now) end
  local changed = true
  if op == 'consume' and allowed then tat = nextTat
  elseif op == 'penalty' then tat = nextTat
  elseif op == 'reward' then tat = math.max(now, tat - amount * interval)
  else changed = false end
  if op == 'penalty' or op == 'reward' then allowed = true retry = 0 end
  local remaining = math.max(0, math.floor((tolerance - (tat - now)) / interval + ${LUA_EPSILON}))
  local reset = math.ceil(tat - now)
  local newState = false
  if changed then newState = string.format('%.17g', tat) end
  return newState, allowed and 1 or 0, remaining, reset, retry
end
`,
};
