-- fence (prelude, prepended to every script that writes a pair's journal; CODE comes from codes.ts):
-- the one fenced, state-checked journal write path. A write goes through only when the lease is held by
-- the caller's token, the journal is at the expected revision, and (when given) in the expected from-state.

-- Returns nil when the write may go on, else the reply to return at once:
-- {CODE.fenced} | {CODE.moved, rev} | {CODE.wrongState, state}
local function fence_check(pairKey, leaseKey, token, expectedRev, expectedFrom)
  if leaseKey ~= nil and redis.call('GET', leaseKey) ~= token then
    return {CODE.fenced}
  end
  local current = redis.call('HMGET', pairKey, 'rev', 'state')
  local rev = tonumber(current[1])
  if rev ~= tonumber(expectedRev) then
    return {CODE.moved, rev or 0}
  end
  if expectedFrom ~= '' and current[2] ~= expectedFrom then
    return {CODE.wrongState, current[2] or ''}
  end
  return nil
end

-- Writes the journal's next revision (after fence_check passed); returns the new revision.
local function journal_write(pairKey, expectedRev, state, doc)
  local newRev = tonumber(expectedRev) + 1
  redis.call('HSET', pairKey, 'rev', newRev, 'state', state, 'doc', doc)
  return newRev
end

-- Appends n (type, data) pairs from ARGV[first ..] to a stream (trimmed to maxLen when given); returns the next ARGV index.
local function append_entries(stream, maxLen, first, n)
  local i = first
  for _ = 1, n do
    if maxLen ~= nil then
      redis.call('XADD', stream, 'MAXLEN', '~', maxLen, '*', 'type', ARGV[i], 'data', ARGV[i + 1])
    else
      redis.call('XADD', stream, '*', 'type', ARGV[i], 'data', ARGV[i + 1])
    end
    i = i + 2
  end
  return i
end

-- Unix ms from Redis TIME: the one authority on expiry and age inside a script.
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), t[1]
end

-- An exposure: the contract record (TTL), the durable review entry keyed by arbId, and the arbId in the
-- betPairId's set of open reviews (which blocks new arbs of that betPairId at preflight).
local function write_exposure(exposureKey, reviewOpenKey, reviewSetKey, record, ttlMs, reviewId)
  redis.call('SET', exposureKey, record, 'PX', ttlMs)
  redis.call('HSET', reviewOpenKey, reviewId, record)
  redis.call('SADD', reviewSetKey, reviewId)
end

-- Whether arbId may hold an account's cooldown: nobody does, or it does. The cooldown key is the authority: the
-- owner key is written after it and can outlive it by a millisecond (each SET PX reads the clock), so an owner
-- key without its cooldown key is a hold that has just ended, not one to respect.
local function cooldown_ours(key, ownerKey, arbId)
  return redis.call('EXISTS', key) == 0 or redis.call('GET', ownerKey) == arbId
end

-- Holds an account's cooldown for arbId at least holdMs from now (Redis time): the key and its owner key get the
-- same expiry. A longer hold is never shortened (it covers a request that may still be in flight, or a late
-- commit). Returns false, touching nothing, when another pair holds the account.
local function hold_cooldown(key, ownerKey, arbId, holdMs, seconds)
  if not cooldown_ours(key, ownerKey, arbId) then
    return false
  end
  local ttl = redis.call('PTTL', key)
  if ttl ~= -1 and ttl < tonumber(holdMs) then
    redis.call('SET', key, seconds, 'PX', holdMs)
    redis.call('SET', ownerKey, arbId, 'PX', holdMs)
  end
  return true
end

-- Whether a bookmaker's (or account's) circuit refuses new pairs (src/store/lua/circuit.lua keeps it): nil when it
-- is closed or was never opened, else {ms until a probe may test it (0 when half-open or forced open), its scope}.
local function circuit_refusal(key, nowMs)
  local c = redis.call('HMGET', key, 'state', 'openUntilMs', 'scope')
  if c[1] ~= 'open' and c[1] ~= 'half_open' then
    return nil
  end
  local leftMs = 0
  local untilMs = tonumber(c[2])
  if c[1] == 'open' and untilMs ~= nil and untilMs > nowMs then leftMs = untilMs - nowMs end
  return {leftMs, c[3] or ''}
end
