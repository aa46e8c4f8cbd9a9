import { type AlgorithmImpl, LUA_CLOCK, LUA_SAVE } from './algorithm.js';

/** The admitted requests of the last window, oldest first, and their total cost. */
interface SlidingLog {
  times: number[];
  costs: number[];
  /** Index of the oldest live entry; entries before it are expired and compacted away lazily. */
  head: number;
  sum: number;
}

function evict(log: SlidingLog, now: number, windowMs: number): void {
  while (log.head < log.times.length && log.times[log.head]! + windowMs <= now) {
    log.sum -= log.costs[log.head]!;
    log.head++;
  }
  // Compact once the dead prefix dominates, so the arrays stay O(live entries).
  if (log.head > 64 && log.head * 2 > log.times.length) {
    log.times.splice(0, log.head);
    log.costs.splice(0, log.head);
    log.head = 0;
  }
}

/** Milliseconds until enough of the oldest entries expire to make room for `need` more. */
function waitFor(log: SlidingLog, need: number, now: number, windowMs: number): number {
  let freed = 0;
  for (let i = log.head; i < log.times.length; i++) {
    freed += log.costs[i]!;
    if (freed >= need) return Math.ceil(log.times[i]! + windowMs - now);
  }
  return windowMs;
}

function removeNewest(log: SlidingLog, amount: number): void {
  let left = amount;
  while (left > 0 && log.times.length > log.head) {
    const last = log.costs.length - 1;
    const cost = log.costs[last]!;
    if (cost <= left) {
      log.times.pop();
      log.costs.pop();
      left -= cost;
      log.sum -= cost;
    } else {
      log.costs[last] = cost - left;
      log.sum -= left;
      left = 0;
    }
  }
}

/**
 * Sliding window, exact: a log of the admitted requests (time and cost) of the last `windowMs`.
 * No rolling window ever admits more than `limit`. Memory grows with the requests in a window
 * (one entry per admitted request), so it suits limits up to some thousands per window.
 */
export const slidingWindow: AlgorithmImpl<SlidingLog> = {
  apply(state, now, { limit, windowMs }, op, amount, out) {
    const log = state ?? { times: [], costs: [], head: 0, sum: 0 };
    evict(log, now, windowMs);
    let changed = true;
    out.allowed = log.sum + amount <= limit;
    out.retryAfterMs = out.allowed ? 0 : waitFor(log, log.sum + amount - limit, now, windowMs);
    if ((op === 'consume' && out.allowed) || op === 'penalty') {
      if (amount > 0) {
        log.times.push(now);
        log.costs.push(amount);
        log.sum += amount;
      }
    } else if (op === 'reward') removeNewest(log, amount);
    else changed = state !== undefined; // evictions mutated the kept log in place
    if (op === 'penalty' || op === 'reward') {
      out.allowed = true;
      out.retryAfterMs = 0;
    }
    out.remaining = Math.max(0, limit - log.sum);
    const newest = log.times.length > log.head ? log.times[log.times.length - 1]! : undefined;
    out.resetMs = newest === undefined ? 0 : Math.ceil(newest + windowMs - now);
    return changed ? log : undefined;
  },
  // The log is a Redis list, newest at the head ("time:cost" entries); the state key holds the sum.
  lua: `${LUA_CLOCK}${LUA_SAVE}
local function sliding_entry(e)
  local sep = string.find(e, ':', 1, true)
  return tonumber(string.sub(e, 1, sep - 1)), tonumber(string.sub(e, sep + 1))
end
local function decide(op, amount, limit, windowMs, burst, stateKey, logKey)
  local now = clock()
  local sum = tonumber(redis.call('GET', stateKey)) or 0
  while sum > 0 do
    local e = redis.call('LINDEX', logKey, -1)
    if not e then sum = 0 break end
    local t, c = sliding_entry(e)
    if t + windowMs > now then break end
    redis.call('RPOP', logKey)
    sum = sum - c
  end
  local allowed = sum + amount <= limit
  local retry = 0
  if not allowed then
    local need = sum + amount - limit
    local entries = redis.call('LRANGE', logKey, -need, -1)
    local freed = 0
    retry = windowMs
    for i = #entries, 1, -1 do
      local t, c = sliding_entry(entries[i])
      freed = freed + c
      if freed >= need then retry = math.ceil(t + windowMs - now) break end
    end
  end
  local reset = 0
  if ((op == 'consume' and allowed) or op == 'penalty') and amount > 0 then
    redis.call('LPUSH', logKey, string.format('%.17g:%d', now, amount))
    sum = sum + amount
    reset = windowMs -- the newest entry is this one
  else
    if op == 'reward' then
      local left = amount
      while left > 0 do
        local e = redis.call('LINDEX', logKey, 0)
        if not e then break end
        local t, c = sliding_entry(e)
        if c <= left then
          redis.call('LPOP', logKey)
          left = left - c
          sum = sum - c
        else
          redis.call('LSET', logKey, 0, string.format('%.17g:%d', t, c - left))
          sum = sum - left
          left = 0
        end
      end
    end
    if sum > 0 then
      local newest = redis.call('LINDEX', logKey, 0)
      if newest then reset = math.ceil(sliding_entry(newest) + windowMs - now) end
    end
  end
  if op == 'penalty' or op == 'reward' then allowed = true retry = 0 end
  -- The log keeps its own expiry, the sum the same one. Written back even on a peek or a denial:
  -- evictions may have changed the sum.
  if reset > 0 then redis.call('PEXPIRE', logKey, reset) else redis.call('DEL', logKey) end
  save(stateKey, sum, reset)
  return allowed and 1 or 0, math.max(0, limit - sum), reset, retry
end
`,
};
