-- resolve_exposure: a person closes one arb's exposure: off the review list, its arbId out of the
-- betPairId's open set (the pair's block lifts when no arb of it is open), the resolution (who, note)
-- kept and appended to the audit trail.
-- KEYS[1] review hash (open, by arbId)   KEYS[2] resolved hash (by arbId)   KEYS[3] audit stream
-- KEYS[4] exposure key of the betPairId   KEYS[5] review set of the betPairId
-- ARGV[1] review id (arbId)   ARGV[2] resolution JSON (who, note, when, record)
-- Returns CODE.ok resolved | CODE.already no open exposure with that id
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return CODE.already
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[1])
if redis.call('SCARD', KEYS[5]) == 0 then
  redis.call('DEL', KEYS[4])
end
redis.call('XADD', KEYS[3], '*', 'type', 'exposure_resolved', 'data', ARGV[2])
return CODE.ok
