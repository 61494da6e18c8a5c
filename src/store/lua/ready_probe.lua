-- ready_probe: proves Redis takes a write (it fails under OOM with noeviction, on a read-only replica) and
-- counts the workers whose last heartbeat is fresh, both by Redis time.
-- KEYS[1] probe key of this API process   KEYS[2] workers zset (score: last heartbeat, Redis time ms)
-- ARGV[1] probe TTL ms   ARGV[2] a heartbeat older than this is not fresh, ms
-- Returns {Redis time ms, fresh workers}
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], nowMs, 'PX', ARGV[1])
local fresh = redis.call('ZCOUNT', KEYS[2], nowMs - tonumber(ARGV[2]), '+inf')
return {nowMs, fresh}
