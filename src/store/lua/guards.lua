-- guards (prelude of claim.lua and preflight.lua, after fence.lua): the preflight's guards and its claims, defined
-- once for the two steps that run them (a fresh pair's claim, and a journal left in `received`).
-- Both callers pass the guards' keys and arguments in the same layout (Store.guardKeys / Store.guardArgs):
-- KEYS[first ..]  kill global, kill provider (positive), kill provider (hedge), kill account (positive),
--                 kill account (hedge), cooldown (positive), cooldown (hedge), owner (positive), owner (hedge),
--                 rate zset (positive), rate zset (hedge), exposure key of the betPairId, review set of the betPairId,
--                 circuit of the positive's bookmaker, of the hedge's, of the positive's account, of the hedge's account
--                 (circuit.lua: a pair needing a bookmaker or account whose circuit is not closed never starts)
-- ARGV[first ..]  cooldown hold of the positive's account ms, of the hedge's account ms (cooldownMs + the time its
--                 request may take, see domain/cooldown.ts), age base ms (the earlier of createdAt and the enqueue
--                 time, '' = unknown), max arb age ms, createdAt ms as stamped ('' = none), max createdAt skew ahead
--                 of Redis time ms, rate placements max, rate window ms
local guardKeyCount = 17
local guardArgCount = 8

local function guard_context(keyFirst, argFirst, arbId)
  local k = keyFirst
  local a = argFirst
  return {
    arbId = arbId,
    kill = {KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]},
    cooldown = {KEYS[k + 5], KEYS[k + 6]},
    owner = {KEYS[k + 7], KEYS[k + 8]},
    rate = {KEYS[k + 9], KEYS[k + 10]},
    exposure = KEYS[k + 11],
    reviewSet = KEYS[k + 12],
    circuits = {KEYS[k + 13], KEYS[k + 14], KEYS[k + 15], KEYS[k + 16]},
    holdMs = {ARGV[a], ARGV[a + 1]},
    ageBaseMs = ARGV[a + 2],
    arbAgeMsMax = tonumber(ARGV[a + 3]),
    createdAtMs = ARGV[a + 4],
    createdAtSkewMsMax = tonumber(ARGV[a + 5]),
    rateMax = tonumber(ARGV[a + 6]),
    rateWindowMs = tonumber(ARGV[a + 7]),
  }
end

-- Returns nil when every guard passes, else the reply {CODE.blocked, reason, remainingMs} (with the circuit's scope
-- fourth for circuit_open); writes nothing but the rate windows' expired entries.
local function preflight_guards(g, nowMs)
  -- ===================================== GUARDS =====================================
  -- Every check a pair must pass before its positive may leave, read in the same atomic step that claims both
  -- accounts and journals the intent. To add one: its keys/arguments go in guard_context (and in
  -- Store.guardKeys / Store.guardArgs, guardKeyCount / guardArgCount), its check below with its block reason
  -- (BlockReason in store.ts).
  for i = 1, #g.kill do
    if redis.call('EXISTS', g.kill[i]) == 1 then
      local ttl = redis.call('PTTL', g.kill[i])
      if ttl < 0 then ttl = 0 end
      return {CODE.blocked, 'kill_switch', ttl}
    end
  end
  -- A scanner clock running ahead would make the arb look young for ever: refuse it outright.
  if g.createdAtMs ~= '' and tonumber(g.createdAtMs) - nowMs > g.createdAtSkewMsMax then
    return {CODE.blocked, 'created_at_in_future', 0}
  end
  if g.ageBaseMs ~= '' and nowMs - tonumber(g.ageBaseMs) > g.arbAgeMsMax then
    return {CODE.blocked, 'stale', 0}
  end
  if redis.call('EXISTS', g.exposure) == 1 or redis.call('EXISTS', g.reviewSet) == 1 then
    return {CODE.blocked, 'exposure_open', 0}
  end
  for i = 1, #g.circuits do
    local refusal = circuit_refusal(g.circuits[i], nowMs)
    if refusal then
      return {CODE.blocked, 'circuit_open', refusal[1], refusal[2]}
    end
  end
  -- The same test as hold_cooldown's (cooldown_ours): an account another pair holds blocks, even at its hold's
  -- last millisecond (PTTL 0 while the key still exists). A check that disagreed with the claim below let the
  -- claim fail after the guards passed (a Lua error after the lease was written: see claim.lua).
  local cooldownLeft = 0
  for i = 1, 2 do
    if not cooldown_ours(g.cooldown[i], g.owner[i], g.arbId) then
      local ttl = redis.call('PTTL', g.cooldown[i])
      if ttl == -1 then ttl = tonumber(g.holdMs[i]) end
      if ttl < 1 then ttl = 1 end
      if ttl > cooldownLeft then cooldownLeft = ttl end
    end
  end
  if cooldownLeft > 0 then
    return {CODE.blocked, 'cooldown', cooldownLeft}
  end
  local windowStart = nowMs - g.rateWindowMs
  local rateLeft = 0
  for i = 1, 2 do
    redis.call('ZREMRANGEBYSCORE', g.rate[i], '-inf', windowStart)
    if redis.call('ZCARD', g.rate[i]) >= g.rateMax then
      local oldest = redis.call('ZRANGE', g.rate[i], 0, 0, 'WITHSCORES')
      local left = tonumber(oldest[2]) + g.rateWindowMs - nowMs
      if left > rateLeft then rateLeft = left end
    end
  end
  if rateLeft > 0 then
    return {CODE.blocked, 'rate_limit', rateLeft}
  end
  -- =================================== END GUARDS ===================================
  return nil
end

-- After the guards passed: both accounts (free, no cooldown left) are held until a cooldown after each one's
-- request could be taken, and both placements count in the accounts' rate windows.
local function preflight_claim(g, nowMs, seconds)
  if not (hold_cooldown(g.cooldown[1], g.owner[1], g.arbId, g.holdMs[1], seconds) and hold_cooldown(g.cooldown[2], g.owner[2], g.arbId, g.holdMs[2], seconds)) then
    return redis.error_reply('invariant violated: preflight could not hold an account it found free')
  end
  -- Members arbId:15 / arbId:16 (the rate keys' places in preflight.lua's first layout; kept so that windows
  -- written before and after this change count alike).
  redis.call('ZADD', g.rate[1], nowMs, g.arbId .. ':15')
  redis.call('PEXPIRE', g.rate[1], g.rateWindowMs)
  redis.call('ZADD', g.rate[2], nowMs, g.arbId .. ':16')
  redis.call('PEXPIRE', g.rate[2], g.rateWindowMs)
  return nil
end
