-- preflight: all or nothing, check every guard of a pair and, when all pass, claim the cooldowns of both
-- legs' accounts, count both placements in the rate limit, and journal the positive's intent.
-- KEYS[1] pair journal hash   KEYS[2] lease   KEYS[3] events stream   KEYS[4] audit stream   KEYS[5] open pairs zset
-- KEYS[6] kill global   KEYS[7] kill provider (positive)   KEYS[8] kill provider (hedge)
-- KEYS[9] kill account (positive)   KEYS[10] kill account (hedge)
-- KEYS[11] cooldown (positive)   KEYS[12] cooldown (hedge)   KEYS[13] owner (positive)   KEYS[14] owner (hedge)
-- KEYS[15] rate zset (positive)   KEYS[16] rate zset (hedge)
-- KEYS[17] exposure key of the betPairId   KEYS[18] review-by-pair key of the betPairId
-- ARGV[1] lease token   ARGV[2] expected rev   ARGV[3] arbId   ARGV[4] cooldown ms
-- ARGV[5] createdAt ms ('' = unknown)   ARGV[6] max arb age ms   ARGV[7] rate placements max   ARGV[8] rate window ms
-- ARGV[9] doc JSON when passed (state positive_placing)   ARGV[10] now ms (worker clock, for the open set)
-- ARGV[11] audit entry count A   ARGV[12 ..] A pairs (type, data): the requests journaled as intents
-- Returns {1, newRev} passed, claims made
--         {0, reason, remainingMs} blocked: kill_switch | stale | exposure_open | cooldown | rate_limit
--         {-1} fenced   {-2, rev} journal moved on
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {-1}
end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
if rev ~= tonumber(ARGV[2]) then
  return {-2, rev or 0}
end
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

for k = 6, 10 do
  if redis.call('EXISTS', KEYS[k]) == 1 then
    local ttl = redis.call('PTTL', KEYS[k])
    if ttl < 0 then ttl = 0 end
    return {0, 'kill_switch', ttl}
  end
end
if ARGV[5] ~= '' and nowMs - tonumber(ARGV[5]) > tonumber(ARGV[6]) then
  return {0, 'stale', 0}
end
if redis.call('EXISTS', KEYS[17]) == 1 or redis.call('EXISTS', KEYS[18]) == 1 then
  return {0, 'exposure_open', 0}
end
local cooldownLeft = 0
for k = 11, 12 do
  local ttl = redis.call('PTTL', KEYS[k])
  if ttl == -1 then ttl = tonumber(ARGV[4]) end
  if ttl > cooldownLeft then cooldownLeft = ttl end
end
if cooldownLeft > 0 then
  return {0, 'cooldown', cooldownLeft}
end
local windowStart = nowMs - tonumber(ARGV[8])
local rateLeft = 0
for k = 15, 16 do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', windowStart)
  if redis.call('ZCARD', KEYS[k]) >= tonumber(ARGV[7]) then
    local oldest = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
    local left = tonumber(oldest[2]) + tonumber(ARGV[8]) - nowMs
    if left > rateLeft then rateLeft = left end
  end
end
if rateLeft > 0 then
  return {0, 'rate_limit', rateLeft}
end

for k = 11, 12 do
  redis.call('SET', KEYS[k], t[1], 'PX', ARGV[4])
  redis.call('SET', KEYS[k + 2], ARGV[3], 'PX', ARGV[4])
end
for k = 15, 16 do
  redis.call('ZADD', KEYS[k], nowMs, ARGV[3] .. ':' .. k)
  redis.call('PEXPIRE', KEYS[k], ARGV[8])
end
local newRev = rev + 1
redis.call('HSET', KEYS[1], 'rev', newRev, 'state', 'positive_placing', 'doc', ARGV[9])
redis.call('ZADD', KEYS[5], ARGV[10], ARGV[3])
local i = 12
for _ = 1, tonumber(ARGV[11]) do
  redis.call('XADD', KEYS[4], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  i = i + 2
end
return {1, newRev}
