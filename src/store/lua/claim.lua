-- claim: take the lease on a pair and load or create its journal, in one atomic step.
-- KEYS[1] pair journal hash (be:pair:{arbId})   KEYS[2] lease (lock:arb:{arbId})   KEYS[3] open pairs zset
-- KEYS[4] every pair by claim time (the API's list; entries older than the journal TTL, or past the cap, dropped)
-- ARGV[1] lease token   ARGV[2] lease ms   ARGV[3] initial doc JSON   ARGV[4] now ms
-- ARGV[5] journal TTL ms   ARGV[6] arbId
-- ARGV[7] job id that creates the journal (kept as a field, so a busy reply can name it)
-- ARGV[8] most entries kept in KEYS[4]
-- Returns {CODE.busy, jobId} lease held by another token; jobId of the journal's job, or false
--         {CODE.created, rev, doc} journal created (state received)
--         {CODE.existing, rev, doc} journal existed: resume or duplicate
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then
  return {CODE.busy, redis.call('HGET', KEYS[1], 'jobId')}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local existing = redis.call('HMGET', KEYS[1], 'rev', 'doc')
if existing[1] then
  return {CODE.existing, tonumber(existing[1]), existing[2]}
end
redis.call('HSET', KEYS[1], 'rev', 1, 'state', 'received', 'doc', ARGV[3], 'jobId', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[5])))
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(tonumber(ARGV[8]) + 1))
return {CODE.created, 1, ARGV[3]}
