-- preflight: all or nothing, for a journal still in `received` (a pair whose claim did not run the preflight:
-- its guards blocked it and the blocked state was not journaled yet, or a journal written before claim.lua
-- merged the two): check every guard (guards.lua) and, when all pass, claim the cooldowns of both legs'
-- accounts, count both placements in the rate limit, and journal the positive's intent (received →
-- positive_placing through the fenced write path).
-- KEYS[1] pair journal hash   KEYS[2] lease   KEYS[3] audit stream   KEYS[4] open pairs zset
-- KEYS[5 .. 21] the guards' keys (guards.lua)
-- ARGV[1] lease token   ARGV[2] expected rev   ARGV[3] arbId   ARGV[4] doc JSON when passed (state positive_placing)
-- ARGV[5] now ms (worker clock, for the open set)   ARGV[6 .. 13] the guards' arguments (guards.lua)
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
local g = guard_context(5, 6, ARGV[3])
local blocked = preflight_guards(g, nowMs)
if blocked then
  return blocked
end
local claimError = preflight_claim(g, nowMs, seconds)
if claimError then
  return claimError
end
local newRev = journal_write(KEYS[1], ARGV[2], 'positive_placing', ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3])
append_entries(KEYS[3], nil, 15, tonumber(ARGV[14]))
return {CODE.ok, newRev}
