import { type AlgorithmImpl, EPSILON, LUA_EPSILON } from './algorithm.js';

interface TokenBucketState {
  tokens: number;
  at: number;
}

/**
 * Token bucket: a bucket of `burst` tokens refilled at `limit / windowMs`; a request takes `cost`
 * tokens. Allows bursts up to `burst`, then the refill rate. State: tokens and the last refill time.
 */
export const tokenBucket: AlgorithmImpl<TokenBucketState> = {
  apply(state, now, { limit, windowMs, burst }, op, amount, out) {
    const rate = limit / windowMs;
    let tokens = state ? Math.min(burst, state.tokens + Math.max(0, now - state.at) * rate) : burst;
    let changed = true;
    out.allowed = tokens + EPSILON >= amount;
    out.retryAfterMs = out.allowed ? 0 : Math.ceil((amount - tokens) / rate);
    if (op === 'consume' && out.allowed) tokens -= amount;
    else if (op === 'penalty') tokens -= amount;
    else if (op === 'reward') tokens = Math.min(burst, tokens + amount);
    else changed = false;
    if (op === 'penalty' || op === 'reward') {
      out.allowed = true;
      out.retryAfterMs = 0;
    }
    out.remaining = Math.max(0, Math.floor(tokens + EPSILON));
    out.resetMs = Math.max(0, Math.ceil((burst - tokens) / rate));
    if (!changed) return undefined;
    if (state) {
      // In place: the memory store keeps this object, so a decision allocates no new state.
      state.tokens = tokens;
      state.at = now;
      return state;
    }
    return { tokens, at: now };
  },
  lua: `
local function token_bucket(state, now, limit, windowMs, burst, op, amount)
  local rate = limit / windowMs
  local tokens = burst
  if state then
    local t, at = string.match(state, '^(%S+) (%S+)$')
    tokens = math.min(burst, tonumber(t) + math.max(0, now - tonumber(at)) * rate)
  end
  local allowed = tokens + ${LUA_EPSILON} >= amount
  local retry = 0
  if not allowed then retry = math.ceil((amount - tokens) / rate) end
  local changed = true
  if op == 'consume' and allowed then tokens = tokens - amount
  elseif op == 'penalty' then tokens = tokens - amount
  elseif op == 'reward' then tokens = math.min(burst, tokens + amount)
  else changed = false end
  if op == 'penalty' or op == 'reward' then allowed = true retry = 0 end
  local remaining = math.max(0, math.floor(tokens + ${LUA_EPSILON}))
  local reset = math.max(0, math.ceil((burst - tokens) / rate))
  local newState = false
  if changed then newState = string.format('%.17g %.17g', tokens, now) end
  return newState, allowed and 1 or 0, remaining, reset, retry
end
`,
};
