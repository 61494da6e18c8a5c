-- resolve_exposure: a person closes an exposure: off the review list, the pair's block lifted,
-- the resolution (who, note) kept and appended to the audit trail.
-- KEYS[1] review hash (open)   KEYS[2] resolved hash   KEYS[3] audit stream
-- KEYS[4] exposure key (= the review id)   KEYS[5] review-by-pair key
-- ARGV[1] resolution JSON (who, note, when, record)
-- Returns 1 resolved | 0 no open exposure with that id
if redis.call('HEXISTS', KEYS[1], KEYS[4]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[1], KEYS[4])
redis.call('HSET', KEYS[2], KEYS[4], ARGV[1])
redis.call('DEL', KEYS[4])
redis.call('DEL', KEYS[5])
redis.call('XADD', KEYS[3], '*', 'type', 'exposure_resolved', 'data', ARGV[1])
return 1
