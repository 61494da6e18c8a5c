-- review_write: an arb's review entry written outside its reconciliation, as the review decision says
-- (a settlement poll chain that died: `settlement_lost`). Nothing is written once the pair is settled (its
-- reconciliation has the last word) or when the arb's review entries changed since the decision.
-- KEYS[1] pair journal hash   KEYS[2] events stream   KEYS[3] audit stream   KEYS[4] exposure key
-- KEYS[5] review hash (open, by arbId)   KEYS[6] resolved hash (by arbId)   KEYS[7] review set of the betPairId
-- ARGV[1] review action   ARGV[2] review JSON   ARGV[3] exposure TTL ms   ARGV[4] arbId
-- ARGV[5] expected open entry ('' = absent)   ARGV[6] expected resolved entry
-- ARGV[7] events stream max length   ARGV[8] event count E   ARGV[9 ..] E pairs (type, data)
-- Returns CODE.ok | {CODE.wrongState, state} | CODE.reviewMoved
if not reviewActions[ARGV[1]] then
  return redis.error_reply('review_write: unknown review action ' .. tostring(ARGV[1]))
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == false or state == 'settled' then
  return {CODE.wrongState, state or ''}
end
if not review_unchanged(KEYS[5], KEYS[6], ARGV[4], ARGV[5], ARGV[6]) then
  return {CODE.reviewMoved}
end
review_apply(ARGV[1], KEYS[5], KEYS[6], KEYS[7], KEYS[4], ARGV[4], ARGV[2], ARGV[3])
local e = tonumber(ARGV[8])
append_entries(KEYS[2], ARGV[7], 9, e)
append_entries(KEYS[3], nil, 9, e)
return {CODE.ok}
