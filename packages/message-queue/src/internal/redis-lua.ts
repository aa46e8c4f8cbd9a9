/**
 * The Redis provider's atomic moves between waiting / prioritized / active / delayed / dead. Every
 * queue's keys share one hash tag, so the scripts also run on Redis Cluster. Key order is fixed by
 * `queueKeys()` in providers/redis.ts.
 *
 * KEYS: 1 wait (LIST of ids, priority 0, FIFO) · 2 prio (ZSET, score from priority then sequence)
 *       3 active (ZSET, score = lock deadline) · 4 delayed (ZSET, score = due time)
 *       5 dead (ZSET, score = failed at) · 6 jobs (HASH id -> body) · 7 pri (HASH id -> priority > 0)
 *       8 stalls (HASH id -> lock expiries) · 9 meta (HASH seq, completed, failed)
 *       10 notify (LIST, at most one wake-up marker) · 11 done (ZSET completed dedupe ids -> expiry)
 *       12 dedupe (SET ids published with a jobId) · 13 progress (HASH id -> JSON)
 */
const enqueue = `
local function score(p)
  return (256 - tonumber(p)) * 17592186044416 + redis.call('HINCRBY', KEYS[9], 'seq', 1)
end
local function ready(id, front)
  local p = redis.call('HGET', KEYS[7], id)
  if p then redis.call('ZADD', KEYS[2], score(p), id)
  elseif front then redis.call('LPUSH', KEYS[1], id)
  else redis.call('RPUSH', KEYS[1], id) end
end
local function wake()
  if redis.call('LLEN', KEYS[10]) == 0 then redis.call('RPUSH', KEYS[10], 1) end
end
`;

/** ARGV: now, then (id, body, delayMs, priority, dedupe 0|1) per message. Returns how many were new. */
export const PUBLISH = `${enqueue}
local now = tonumber(ARGV[1])
local added = 0
for i = 2, #ARGV, 5 do
  local id = ARGV[i]
  local fresh = true
  if ARGV[i + 4] == '1' then
    if redis.call('HEXISTS', KEYS[6], id) == 1 then fresh = false
    else
      local until_ = redis.call('ZSCORE', KEYS[11], id)
      if until_ and tonumber(until_) > now then fresh = false end
    end
    if fresh then redis.call('SADD', KEYS[12], id) end
  end
  if fresh then
    redis.call('HSET', KEYS[6], id, ARGV[i + 1])
    local priority = tonumber(ARGV[i + 3])
    if priority > 0 then redis.call('HSET', KEYS[7], id, priority) end
    local delay = tonumber(ARGV[i + 2])
    if delay > 0 then redis.call('ZADD', KEYS[4], now + delay, id) else ready(id, false) end
    added = added + 1
  end
end
if added > 0 then wake() end
return added
`;

/**
 * ARGV: now, count, lockMs, maxStalls. Promotes due delayed jobs, requeues jobs whose lock expired
 * (dead-lettering them after maxStalls expiries: a job that keeps killing its worker), then takes
 * up to count jobs. Returns { next delayed due, next lock deadline, id1, body1, id2, body2, ... }.
 */
const fetchFn = `
local function fetch(now, count, lockMs, maxStalls)
  local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', KEYS[4], id)
    ready(id, false)
  end
  local stalled = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(stalled) do
    redis.call('ZREM', KEYS[3], id)
    if redis.call('HINCRBY', KEYS[8], id, 1) > maxStalls then
      redis.call('ZADD', KEYS[5], now, id)
      redis.call('HINCRBY', KEYS[9], 'failed', 1)
    else
      ready(id, true)
    end
  end
  local out = { '', '' }
  if count > 0 then
    local ids = {}
    local popped = redis.call('ZPOPMIN', KEYS[2], count)
    for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
    if #ids < count then
      local listed = redis.call('LPOP', KEYS[1], count - #ids)
      if listed then for _, id in ipairs(listed) do ids[#ids + 1] = id end end
    end
    local deadline = now + lockMs
    for _, id in ipairs(ids) do
      local body = redis.call('HGET', KEYS[6], id)
      if body then
        redis.call('ZADD', KEYS[3], deadline, id)
        out[#out + 1] = id
        out[#out + 1] = body
      end
    end
    -- Jobs left behind: wake another idle consumer.
    if redis.call('LLEN', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then wake() end
  end
  local nextDue = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if nextDue[2] then out[1] = nextDue[2] end
  local nextLock = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if nextLock[2] then out[2] = nextLock[2] end
  return out
end
`;

/**
 * ARGV: now, count, lockMs, maxStalls. Promotes due delayed jobs, requeues jobs whose lock expired
 * (dead-lettering them after maxStalls expiries: a job that keeps killing its worker), then takes
 * up to count jobs. Returns { next delayed due, next lock deadline, id1, body1, id2, body2, ... }.
 */
export const FETCH = `${enqueue}${fetchFn}
return fetch(tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
`;

/**
 * ARGV: id, now, dedupeWindowMs, fetchCount, lockMs, maxStalls. Completes a job and, like BullMQ's
 * moveToFinished, takes the worker's next job in the same round trip (returns FETCH's reply).
 */
export const ACK = `${enqueue}${fetchFn}
local id = ARGV[1]
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[6], id)
redis.call('HDEL', KEYS[7], id)
redis.call('HDEL', KEYS[8], id)
redis.call('HDEL', KEYS[13], id)
redis.call('HINCRBY', KEYS[9], 'completed', 1)
if redis.call('SREM', KEYS[12], id) == 1 then
  local now = tonumber(ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', now)
  redis.call('ZADD', KEYS[11], now + tonumber(ARGV[3]), id)
end
if tonumber(ARGV[4]) == 0 then return { '', '' } end
return fetch(tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
`;

/** ARGV: id, body, delayMs, now. A failed attempt with attempts left. */
export const RETRY = `${enqueue}
local id = ARGV[1]
redis.call('ZREM', KEYS[3], id)
redis.call('HSET', KEYS[6], id, ARGV[2])
redis.call('HINCRBY', KEYS[9], 'failed', 1)
local delay = tonumber(ARGV[3])
if delay > 0 then redis.call('ZADD', KEYS[4], tonumber(ARGV[4]) + delay, id)
else ready(id, false); wake() end
return 1
`;

/** ARGV: id, body, now. */
export const DEAD = `
local id = ARGV[1]
redis.call('ZREM', KEYS[3], id)
redis.call('HSET', KEYS[6], id, ARGV[2])
redis.call('HDEL', KEYS[8], id)
redis.call('ZADD', KEYS[5], tonumber(ARGV[3]), id)
redis.call('HINCRBY', KEYS[9], 'failed', 1)
return 1
`;

/** ARGV: id. Back to the front of the queue without counting an attempt. */
export const RELEASE = `${enqueue}
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then ready(ARGV[1], true); wake() end
return 1
`;

/** ARGV: deadline, id... Extends the locks this worker still holds (XX: never resurrects one). */
export const EXTEND = `
local deadline = tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[3], 'XX', 'CH', deadline, ARGV[i]) end
return n
`;

/** ARGV: id, body. A dead job back on its queue. */
export const RETRY_DEAD = `${enqueue}
if redis.call('ZREM', KEYS[5], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[6], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[8], ARGV[1])
ready(ARGV[1], false)
wake()
return 1
`;

export const PURGE_DEAD = `
local ids = redis.call('ZRANGE', KEYS[5], 0, -1)
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[6], id)
  redis.call('HDEL', KEYS[7], id)
  redis.call('HDEL', KEYS[8], id)
  redis.call('SREM', KEYS[12], id)
end
redis.call('DEL', KEYS[5])
return #ids
`;
