import type { StorePolicy } from '../types.js';

/** The operations an algorithm implements; `reset` and `block` are handled by the stores. */
export type AlgorithmOperation = 'consume' | 'peek' | 'penalty' | 'reward';

/** Filled in by `apply` (an out-parameter, so the memory store's hot path allocates nothing). */
export interface AlgorithmOutcome {
  allowed: boolean;
  remaining: number;
  /** Also how long the state must be kept: after `resetMs` it equals a fresh key's. */
  resetMs: number;
  retryAfterMs: number;
}

/**
 * One algorithm, twice: `apply` for the memory store and `lua` (a Lua function named `name` with
 * the same arithmetic) for the Redis script. Both round the same way so the stores agree.
 */
export interface AlgorithmImpl<State = unknown> {
  /**
   * Brings `state` (undefined for a fresh key) up to `now`, applies the operation and fills `out`.
   * Returns the state to keep, or undefined when nothing changed (peek, a denial).
   */
  apply(
    state: State | undefined,
    now: number,
    policy: StorePolicy,
    op: AlgorithmOperation,
    amount: number,
    out: AlgorithmOutcome,
  ): State | undefined;
  /**
   * `local function decide(op, amount, limit, windowMs, burst, stateKey, logKey)` returning
   * `allowed (0/1), remaining, resetMs, retryAfterMs`. It reads and writes its own Redis keys, and
   * starts with the helpers it uses (`LUA_CLOCK`, `LUA_SAVE`, `LUA_SPEND`): each one is defined
   * on every call, so a script carries only what it needs.
   */
  lua: string;
}

/**
 * Tolerance for floating-point drift in refill arithmetic: without it, 3 × (1000 / 3) ms can come
 * out a hair above 1000 and deny the last request of a burst.
 */
export const EPSILON = 1e-6;
export const LUA_EPSILON = '1e-6';

/**
 * The step every counting algorithm shares, over `used` (capacity in use after refill or leak):
 * `consume` adds `amount` if it fits in `capacity`; `penalty` adds it regardless; `reward` takes
 * it back (not below 0); `peek` changes nothing. Sets `out.allowed` (always true for penalty and
 * reward) and returns the new `used`, or NaN when nothing changed.
 */
export function spend(
  op: AlgorithmOperation,
  used: number,
  amount: number,
  capacity: number,
  out: AlgorithmOutcome,
): number {
  if (op === 'penalty' || op === 'reward') {
    out.allowed = true;
    return op === 'penalty' ? used + amount : Math.max(0, used - amount);
  }
  out.allowed = used + amount <= capacity + EPSILON;
  return op === 'consume' && out.allowed ? used + amount : Number.NaN;
}

/** `clock()`: the Redis server's time in ms (with µs). */
export const LUA_CLOCK = `
local function clock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
`;

/** `save(key, value, ttlMs)`: SET with PX, or DEL when the state has nothing left to keep. */
export const LUA_SAVE = `
local function save(key, value, ttl)
  if ttl > 0 then redis.call('SET', key, value, 'PX', ttl) else redis.call('DEL', key) end
end
`;

/** `spend` in Lua, for the Redis scripts: returns newUsed (or false), allowed. */
export const LUA_SPEND = `
local function spend(op, used, amount, capacity)
  local fits = used + amount <= capacity + ${LUA_EPSILON}
  if op == 'penalty' then return used + amount, true end
  if op == 'reward' then return math.max(0, used - amount), true end
  if op == 'consume' and fits then return used + amount, true end
  return false, fits
end
`;

/** The helpers of the algorithms that meter cost over time on the server clock (token bucket, GCRA). */
export const LUA_METER = LUA_CLOCK + LUA_SAVE + LUA_SPEND;
