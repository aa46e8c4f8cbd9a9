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
   * `local function decide(state, now, limit, windowMs, burst, op, amount, logKey)` returning
   * `newState | false, allowed (0/1), remaining, resetMs, retryAfterMs`; `state` is the stored
   * string or false.
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
