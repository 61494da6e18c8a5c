-- reconcile: a pair's classification once its polled bets are final (first reconciliation), or again after
-- a bet was re-settled: the settled doc, its events, and the arb's review entry as the review decision says
-- (src/domain/review.ts: a resolution stands unless the classification got worse). Written only when the
-- journal is at the expected revision and from-state, and the arb's review entries are what the decision
-- was taken on; else nothing is written and the caller reloads and decides again.
-- KEYS[1] pair journal hash   KEYS[2] events stream   KEYS[3] audit stream   KEYS[4] exposure key
-- KEYS[5] review hash (open, by arbId)   KEYS[6] resolved hash (by arbId)   KEYS[7] review set of the betPairId
-- KEYS[8] pairs awaiting settlement (zset)
-- ARGV[1] expected rev   ARGV[2] expected from-state   ARGV[3] settled doc JSON
-- ARGV[4] review action (none | open | update_open | append_resolved)   ARGV[5] review JSON ('' with none)
-- ARGV[6] exposure TTL ms   ARGV[7] arbId   ARGV[8] expected open entry ('' = absent)   ARGV[9] expected resolved entry
-- ARGV[10] events stream max length   ARGV[11] event count E   ARGV[12 ..] E pairs (type, data)
-- Returns {CODE.ok, newRev} | {CODE.moved, rev} | {CODE.wrongState, state} | {CODE.reviewMoved}
if not reviewActions[ARGV[4]] then
  return redis.error_reply('reconcile: unknown review action ' .. tostring(ARGV[4]))
end
local refused = fence_check(KEYS[1], nil, '', ARGV[1], ARGV[2])
if refused then
  return refused
end
if not review_unchanged(KEYS[5], KEYS[6], ARGV[7], ARGV[8], ARGV[9]) then
  return {CODE.reviewMoved}
end
local newRev = journal_write(KEYS[1], ARGV[1], 'settled', ARGV[3])
review_apply(ARGV[4], KEYS[5], KEYS[6], KEYS[7], KEYS[4], ARGV[7], ARGV[5], ARGV[6])
-- Settled: the sweep for lost poll chains has nothing more to watch (re-checks are jobs of their own).
redis.call('ZREM', KEYS[8], ARGV[7])
local e = tonumber(ARGV[11])
append_entries(KEYS[2], ARGV[10], 12, e)
append_entries(KEYS[3], nil, 12, e)
return {CODE.ok, newRev}
