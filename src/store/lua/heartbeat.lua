-- heartbeat: one worker process says it is alive, stamped with Redis time (the one clock every process shares).
-- KEYS[1] the worker's heartbeat key   KEYS[2] workers zset (score: last heartbeat, Redis time ms)
-- ARGV[1] worker id   ARGV[2] heartbeat TTL ms   ARGV[3] workers silent this long are forgotten, ms
-- Returns the Redis time of the heartbeat, ms (also the key's value)
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], nowMs, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], nowMs, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (nowMs - tonumber(ARGV[3])))
return nowMs
