-- preflight: all or nothing, check every guard of a pair and, when all pass, claim the cooldowns of both
-- legs' accounts, count both placements in the rate limit, and journal the positive's intent (received →
-- positive_placing through the fenced write path).
-- KEYS[1] pair journal hash   KEYS[2] lease   KEYS[3] events stream   KEYS[4] audit stream   KEYS[5] open pairs zset
-- KEYS[6] kill global   KEYS[7] kill provider (positive)   KEYS[8] kill provider (hedge)
-- KEYS[9] kill account (positive)   KEYS[10] kill account (hedge)
-- KEYS[11] cooldown (positive)   KEYS[12] cooldown (hedge)   KEYS[13] owner (positive)   KEYS[14] owner (hedge)
-- KEYS[15] rate zset (positive)   KEYS[16] rate zset (hedge)
-- KEYS[17] exposure key of the betPairId   KEYS[18] review set of the betPairId (arbIds with an open review)
-- KEYS[19] circuit of the positive's bookmaker   KEYS[20] of the hedge's   KEYS[21] circuit of the positive's account
-- KEYS[22] of the hedge's account (circuit.lua: a pair needing a bookmaker or account whose circuit is not closed never starts)
-- ARGV[1] lease token   ARGV[2] expected rev   ARGV[3] arbId
-- ARGV[4] cooldown hold of the positive's account, ms (cooldownMs + the time its request may take, see domain/cooldown.ts)
-- ARGV[5] age base ms: the earlier of createdAt and the enqueue time ('' = unknown)   ARGV[6] max arb age ms
-- ARGV[7] rate placements max   ARGV[8] rate window ms
-- ARGV[9] doc JSON when passed (state positive_placing)   ARGV[10] now ms (worker clock, for the open set)
-- ARGV[11] createdAt ms as the scanner stamped it ('' = none)   ARGV[12] max createdAt skew ahead of Redis time, ms
-- ARGV[13] cooldown hold of the hedge's account, ms
-- ARGV[14] audit entry count A   ARGV[15 ..] A pairs (type, data): the requests journaled as intents
-- Returns {CODE.ok, newRev} passed, claims made
--         {CODE.blocked, reason, remainingMs}: kill_switch | created_at_in_future | stale | exposure_open | cooldown | rate_limit
--         {CODE.blocked, 'circuit_open', remainingMs (until a probe may test it), circuit scope}
--         {CODE.fenced} | {CODE.moved, rev} | {CODE.wrongState, state}
local refused = fence_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2], 'received')
if refused then
  return refused
end
local nowMs, seconds = redis_now_ms()

for k = 6, 10 do
  if redis.call('EXISTS', KEYS[k]) == 1 then
    local ttl = redis.call('PTTL', KEYS[k])
    if ttl < 0 then ttl = 0 end
    return {CODE.blocked, 'kill_switch', ttl}
  end
end
-- A scanner clock running ahead would make the arb look young for ever: refuse it outright.
if ARGV[11] ~= '' and tonumber(ARGV[11]) - nowMs > tonumber(ARGV[12]) then
  return {CODE.blocked, 'created_at_in_future', 0}
end
if ARGV[5] ~= '' and nowMs - tonumber(ARGV[5]) > tonumber(ARGV[6]) then
  return {CODE.blocked, 'stale', 0}
end
if redis.call('EXISTS', KEYS[17]) == 1 or redis.call('EXISTS', KEYS[18]) == 1 then
  return {CODE.blocked, 'exposure_open', 0}
end
for k = 19, 22 do
  local refusal = circuit_refusal(KEYS[k], nowMs)
  if refusal then
    return {CODE.blocked, 'circuit_open', refusal[1], refusal[2]}
  end
end
local cooldownLeft = 0
for k = 11, 12 do
  local ttl = redis.call('PTTL', KEYS[k])
  if ttl == -1 then ttl = tonumber(ARGV[4]) end
  if ttl > cooldownLeft then cooldownLeft = ttl end
end
if cooldownLeft > 0 then
  return {CODE.blocked, 'cooldown', cooldownLeft}
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
  return {CODE.blocked, 'rate_limit', rateLeft}
end

-- Both accounts are free (no cooldown left): each is held until a cooldown after its request could be taken.
if not (hold_cooldown(KEYS[11], KEYS[13], ARGV[3], ARGV[4], seconds) and hold_cooldown(KEYS[12], KEYS[14], ARGV[3], ARGV[13], seconds)) then
  return redis.error_reply('invariant violated: preflight could not hold an account it found free')
end
for k = 15, 16 do
  redis.call('ZADD', KEYS[k], nowMs, ARGV[3] .. ':' .. k)
  redis.call('PEXPIRE', KEYS[k], ARGV[8])
end
local newRev = journal_write(KEYS[1], ARGV[2], 'positive_placing', ARGV[9])
redis.call('ZADD', KEYS[5], ARGV[10], ARGV[3])
append_entries(KEYS[4], nil, 15, tonumber(ARGV[14]))
return {CODE.ok, newRev}
