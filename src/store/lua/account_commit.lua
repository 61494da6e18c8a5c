-- account_commit: ends an account's poll, if this worker still holds it: the bets whose result was recorded leave
-- the open set, the bets checked by id leave the to-check set, the feed cursor moves on, and the next poll is set
-- (never past the earliest open bet's deadline; soon when bets opened during the poll). An account without open
-- bets leaves the due set (its cursor is kept for the next bet on it).
-- KEYS[1] accounts due   KEYS[2] account state hash   KEYS[3] open bets hash   KEYS[4] bets not yet checked by id
-- KEYS[5] open bets by deadline
-- ARGV[1] account member   ARGV[2] token   ARGV[3] cursor ('' = unchanged)   ARGV[4] next poll ms   ARGV[5] idle polls
-- ARGV[6] due ms for bets not yet checked   ARGV[7] results recorded D   ARGV[8 ..] D ticketIds, then C, C ticketIds checked
-- Returns CODE.ok | CODE.fenced (another worker took the account over; its poll stands)
if redis.call('HGET', KEYS[2], 'claim') ~= ARGV[2] then
  return CODE.fenced
end
local d = tonumber(ARGV[7])
for i = 8, 7 + d do
  redis.call('HDEL', KEYS[3], ARGV[i])
  redis.call('ZREM', KEYS[5], ARGV[i])
  redis.call('SREM', KEYS[4], ARGV[i])
end
local c = tonumber(ARGV[8 + d])
for i = 9 + d, 8 + d + c do
  redis.call('SREM', KEYS[4], ARGV[i])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'cursor', ARGV[3])
end
redis.call('HDEL', KEYS[2], 'claim')
if redis.call('HLEN', KEYS[3]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], 'hotFrom', 'hotUntil', 'idle')
  return CODE.ok
end
redis.call('HSET', KEYS[2], 'idle', ARGV[5])
local nextMs = tonumber(ARGV[4])
if redis.call('SCARD', KEYS[4]) > 0 and tonumber(ARGV[6]) < nextMs then nextMs = tonumber(ARGV[6]) end
local first = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
if first[2] and tonumber(first[2]) < nextMs then nextMs = tonumber(first[2]) end
redis.call('ZADD', KEYS[1], nextMs, ARGV[1])
return CODE.ok
