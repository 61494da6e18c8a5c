-- reconcile: settle a pair exactly once: the settled doc, its events, and an exposure record with its
-- review entry, written only if the pair is not settled yet and its journal did not move.
-- KEYS[1] pair journal hash   KEYS[2] events stream   KEYS[3] audit stream
-- KEYS[4] exposure key   KEYS[5] review hash (open, by arbId)   KEYS[6] review set of the betPairId
-- ARGV[1] expected rev   ARGV[2] settled doc JSON   ARGV[3] exposure JSON or ''   ARGV[4] exposure TTL ms
-- ARGV[5] review id (arbId)   ARGV[6] events stream max length   ARGV[7] event count E   ARGV[8 ..] E pairs (type, data)
-- Returns 1 settled now | 0 already settled (a duplicate final poll) | -2 journal moved on (reload, retry)
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'settled' then
  return 0
end
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev'))
if rev ~= tonumber(ARGV[1]) then
  return -2
end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'state', 'settled', 'doc', ARGV[2])
if ARGV[3] ~= '' then
  -- An exposure raised at placement keeps its original 24 h TTL; a new one starts its own.
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('SET', KEYS[4], ARGV[3], 'KEEPTTL')
  else
    redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
  end
  redis.call('HSET', KEYS[5], ARGV[5], ARGV[3])
  redis.call('SADD', KEYS[6], ARGV[5])
end
local e = tonumber(ARGV[7])
local i = 8
for _ = 1, e do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  redis.call('XADD', KEYS[3], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  i = i + 2
end
return 1
