-- claim: take the lease on a pair and load or create its journal, in one atomic step; for a journal it creates,
-- optionally the preflight too (guards.lua), so that a fresh pair's positive leaves after this one Redis round
-- trip: lease, journal, guards, both accounts' cooldowns and rate windows, and the positive's intent.
-- KEYS[1] pair journal hash (be:pair:{arbId})   KEYS[2] lease (lock:arb:{arbId})   KEYS[3] open pairs zset
-- KEYS[4] every pair by claim time (the API's list; entries older than the journal TTL, or past the cap, dropped)
-- With the preflight: KEYS[5] audit stream   KEYS[6 .. 22] the guards' keys (guards.lua)
-- ARGV[1] lease token   ARGV[2] lease ms   ARGV[3] initial doc JSON (state received)   ARGV[4] now ms
-- ARGV[5] journal TTL ms   ARGV[6] arbId
-- ARGV[7] job id that creates the journal (kept as a field, so a busy reply can name it)
-- ARGV[8] most entries kept in KEYS[4]
-- ARGV[9] '1': run the preflight on a journal created here; '0': claim only (nothing below is read)
-- ARGV[10 .. 17] the guards' arguments (guards.lua)   ARGV[18] doc JSON when passed (state positive_placing)
-- ARGV[19] audit entry count A   ARGV[20 ..] A pairs (type, data): the requests journaled as intents
-- Returns {CODE.busy, jobId} lease held by another token; jobId of the journal's job, or false
--         {CODE.existing, rev, doc} journal existed: resume or duplicate (never preflighted here)
--         {CODE.created, rev, doc} journal created (state received), no preflight asked
--         {CODE.created, rev, doc, reason, remainingMs, circuit} journal created (received), a guard blocked the
--           pair (circuit: the refusing circuit's scope for circuit_open, else false)
--         {CODE.ok, rev} journal created and preflight passed: state positive_placing, ARGV[18] journaled
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then
  return {CODE.busy, redis.call('HGET', KEYS[1], 'jobId')}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local existing = redis.call('HMGET', KEYS[1], 'rev', 'doc')
if existing[1] then
  return {CODE.existing, tonumber(existing[1]), existing[2]}
end

-- A journal created here joins the open pairs and the API's index of every pair.
local function index_created()
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[5])))
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(tonumber(ARGV[8]) + 1))
end

local function create_received()
  redis.call('HSET', KEYS[1], 'rev', 1, 'state', 'received', 'doc', ARGV[3], 'jobId', ARGV[7])
  index_created()
end

if ARGV[9] ~= '1' then
  create_received()
  return {CODE.created, 1, ARGV[3]}
end
local nowMs, seconds = redis_now_ms()
local g = guard_context(6, 10, ARGV[6])
local blocked = preflight_guards(g, nowMs)
if blocked then
  -- The journal stays in received: the caller journals the block (an arb_blocked transition, lease released).
  create_received()
  return {CODE.created, 1, ARGV[3], blocked[2], blocked[3], blocked[4] or false}
end
local claimError = preflight_claim(g, nowMs, seconds)
if claimError then
  -- Redis keeps a script's writes made before an error: the lease is written, so the journal must be too, or
  -- a retry of the job would find a lease with no journal. In received, a retry resumes it (preflight.lua).
  create_received()
  return claimError
end
-- Revision 1 (received) and 2 (positive_placing) in one step: nobody can read the journal between them.
redis.call('HSET', KEYS[1], 'rev', 2, 'state', 'positive_placing', 'doc', ARGV[18], 'jobId', ARGV[7])
index_created()
append_entries(KEYS[5], nil, 20, tonumber(ARGV[19]))
return {CODE.ok, 2}
