-- transition: journal one fenced state transition of a pair with everything that goes with it, atomically:
-- the new doc, events, audit entries, the refresh of the cooldown of the account about to be bet on,
-- and an exposure record with its review entry.
-- KEYS[1] pair journal hash   KEYS[2] lease   KEYS[3] events stream   KEYS[4] audit stream   KEYS[5] open pairs zset
-- KEYS[6] exposure key   KEYS[7] review hash   KEYS[8] review-by-pair key   (ignored unless ARGV[10] ~= '')
-- KEYS[9 ..] C pairs (cooldown key, its owner key) of accounts whose cooldown this step refreshes
-- ARGV[1] lease token   ARGV[2] expected rev   ARGV[3] new state   ARGV[4] new doc JSON
-- ARGV[5] '1' when the pair leaves the open set (its lease is released too)   ARGV[6] now ms   ARGV[7] arbId
-- ARGV[8] C modes, one letter per pair: 'c' claim (the account is about to be bet on: refused when
--         another pair holds it) or 't' touch (it was just bet on: refreshed unless another pair holds it)
-- ARGV[9] cooldown ms
-- ARGV[10] exposure JSON or ''   ARGV[11] exposure TTL ms   ARGV[12] review id
-- ARGV[13] events stream max length   ARGV[14] event count E   ARGV[15] audit count A
-- ARGV[16 ..] E pairs (type, data) then A pairs (type, data)
-- Returns {1, newRev} | {-1} lease not held by this token (fenced) | {-2, rev} journal moved on | {-3} cooldown owned by another pair
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {-1}
end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
if rev ~= tonumber(ARGV[2]) then
  return {-2, rev or 0}
end
local modes = ARGV[8]
local ours = {}
for c = 1, #modes do
  local key, ownerKey = KEYS[7 + 2 * c], KEYS[8 + 2 * c]
  local owner = redis.call('GET', ownerKey)
  ours[c] = (owner == ARGV[7]) or (not owner and redis.call('EXISTS', key) == 0)
  if not ours[c] and string.sub(modes, c, c) == 'c' then
    return {-3}
  end
end
if #modes > 0 then
  local t = redis.call('TIME')
  for c = 1, #modes do
    if ours[c] then
      redis.call('SET', KEYS[7 + 2 * c], t[1], 'PX', ARGV[9])
      redis.call('SET', KEYS[8 + 2 * c], ARGV[7], 'PX', ARGV[9])
    end
  end
end
local newRev = rev + 1
redis.call('HSET', KEYS[1], 'rev', newRev, 'state', ARGV[3], 'doc', ARGV[4])
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[5], ARGV[7])
  redis.call('DEL', KEYS[2])
else
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[7])
end
if ARGV[10] ~= '' then
  redis.call('SET', KEYS[6], ARGV[10], 'PX', ARGV[11])
  redis.call('HSET', KEYS[7], ARGV[12], ARGV[10])
  redis.call('SET', KEYS[8], ARGV[12])
end
local e = tonumber(ARGV[14])
local a = tonumber(ARGV[15])
local i = 16
for _ = 1, e do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[13], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  i = i + 2
end
for _ = 1, a do
  redis.call('XADD', KEYS[4], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  i = i + 2
end
return {1, newRev}
