-- account_begin: takes an account's poll if it is still due (another worker may have taken it): its next poll is
-- pushed a lease ahead (a worker that dies mid-poll leaves the account due again then) and the claim is this
-- worker's token. Returns what the poll needs.
-- KEYS[1] accounts due   KEYS[2] account state hash   KEYS[3] open bets hash (unused: keys of one account)
-- KEYS[4] bets not yet checked by id (set)   KEYS[5] open bets by deadline (zset)
-- ARGV[1] account member   ARGV[2] now ms   ARGV[3] lease ms   ARGV[4] token   ARGV[5] most bets to check by id
-- ARGV[6] most expired bets
-- Returns {CODE.already} not due | {CODE.ok, due ms, cursor, hotFrom, hotUntil, idle, nFresh, fresh..., nExpired, expired...}
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then
  return {CODE.already}
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], 'claim', ARGV[4])
local state = redis.call('HMGET', KEYS[2], 'cursor', 'hotFrom', 'hotUntil', 'idle')
local fresh
if redis.call('SCARD', KEYS[4]) <= tonumber(ARGV[5]) then
  fresh = redis.call('SMEMBERS', KEYS[4])
else
  fresh = redis.call('SRANDMEMBER', KEYS[4], ARGV[5])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[2], 'LIMIT', 0, ARGV[6])
local reply = {CODE.ok, due, state[1] or '', state[2] or '0', state[3] or '0', state[4] or '0', #fresh}
for _, id in ipairs(fresh) do reply[#reply + 1] = id end
reply[#reply + 1] = #expired
for _, id in ipairs(expired) do reply[#reply + 1] = id end
return reply
