-- transition: journal one fenced, state-checked transition of a pair with everything that goes with it,
-- atomically: the new doc, events, audit entries, the cooldown refresh of the accounts about to be / just
-- bet on, optional guards re-checked for a positive that is not the first fresh send, and an exposure.
-- KEYS[1] pair journal hash   KEYS[2] lease   KEYS[3] events stream   KEYS[4] audit stream   KEYS[5] open pairs zset
-- KEYS[6] exposure key   KEYS[7] review hash (open)   KEYS[8] review set of the betPairId   (used when ARGV[11] ~= '')
-- KEYS[9 .. 8+2C] C pairs (cooldown key, its owner key)
-- KEYS[9+2C ..] G guard keys: a kill switch (a string: present blocks the step) or a circuit (a hash, circuit.lua:
--         open or half-open blocks the step with 'circuit_open')
-- ARGV[1] lease token   ARGV[2] expected rev   ARGV[3] expected from-state   ARGV[4] new state   ARGV[5] new doc JSON
-- ARGV[6] '1' when the pair leaves the open set (its lease is released too)   ARGV[7] now ms (worker clock, open-set score)
-- ARGV[8] arbId
-- ARGV[9] C modes, one letter per cooldown pair: 'c' claim (about to be bet on: refused when another pair
--         holds it) or 't' touch (just bet on: refreshed unless another pair holds it)
-- ARGV[10] C holds, ms, comma-separated: each account is held at least this long from now (never shortened)
-- ARGV[11] exposure JSON or ''   ARGV[12] exposure TTL ms   ARGV[13] review id (arbId)
-- ARGV[14] events stream max length   ARGV[15] event count E   ARGV[16] audit count A
-- ARGV[17] guard count G   ARGV[18] age base ms ('' = no staleness guard)   ARGV[19] max age ms
-- ARGV[20 ..] E pairs (type, data) then A pairs (type, data)
-- Returns {CODE.ok, newRev} | {CODE.blocked, 'kill_switch'|'stale', remainingMs} | {CODE.fenced}
--         | {CODE.blocked, 'circuit_open', remainingMs, circuit scope}
--         | {CODE.moved, rev} | {CODE.wrongState, state} | {CODE.cooldownConflict}
local refused = fence_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if refused then
  return refused
end
local modes = ARGV[9]
local guardFirst = 9 + 2 * #modes
for k = guardFirst, guardFirst + tonumber(ARGV[17]) - 1 do
  local kind = redis.call('TYPE', KEYS[k]).ok
  if kind == 'hash' then
    local refusal = circuit_refusal(KEYS[k], redis_now_ms())
    if refusal then
      return {CODE.blocked, 'circuit_open', refusal[1], refusal[2]}
    end
  elseif kind ~= 'none' then
    local ttl = redis.call('PTTL', KEYS[k])
    if ttl < 0 then ttl = 0 end
    return {CODE.blocked, 'kill_switch', ttl}
  end
end
if ARGV[18] ~= '' then
  local nowMs = redis_now_ms()
  if nowMs - tonumber(ARGV[18]) > tonumber(ARGV[19]) then
    return {CODE.blocked, 'stale', 0}
  end
end
local holds = {}
for holdMs in string.gmatch(ARGV[10], '[^,]+') do
  holds[#holds + 1] = holdMs
end
if #holds ~= #modes then
  return redis.error_reply('invariant violated: ' .. #modes .. ' cooldown modes, ' .. #holds .. ' holds')
end
for c = 1, #modes do
  if string.sub(modes, c, c) == 'c' and not cooldown_ours(KEYS[7 + 2 * c], KEYS[8 + 2 * c], ARGV[8]) then
    return {CODE.cooldownConflict}
  end
end
if #modes > 0 then
  local _, seconds = redis_now_ms()
  for c = 1, #modes do
    hold_cooldown(KEYS[7 + 2 * c], KEYS[8 + 2 * c], ARGV[8], holds[c], seconds)
  end
end
local newRev = journal_write(KEYS[1], ARGV[2], ARGV[4], ARGV[5])
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[5], ARGV[8])
  redis.call('DEL', KEYS[2])
else
  redis.call('ZADD', KEYS[5], ARGV[7], ARGV[8])
end
if ARGV[11] ~= '' then
  write_exposure(KEYS[6], KEYS[7], KEYS[8], ARGV[11], ARGV[12], ARGV[13])
end
local i = append_entries(KEYS[3], ARGV[14], 20, tonumber(ARGV[15]))
append_entries(KEYS[4], nil, i, tonumber(ARGV[16]))
return {CODE.ok, newRev}
