-- account_register: a bet of a batch-capable bookmaker joins its account's open set (polled per account), once.
-- KEYS[1] accounts due (zset: member → next poll, unix ms)   KEYS[2] account state hash   KEYS[3] open bets hash
-- KEYS[4] bets not yet checked by id (set)   KEYS[5] open bets by deadline (zset)
-- ARGV[1] account member   ARGV[2] ticketId   ARGV[3] bet JSON   ARGV[4] deadline ms   ARGV[5] window from ms
-- ARGV[6] window until ms   ARGV[7] first poll due ms
-- Returns CODE.ok registered | CODE.already (the bet is open already: a repeat adds nothing)
if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3]) == 0 then
  return CODE.already
end
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[2])
-- The account's fast window widens to cover this bet's (src/domain/settlement-schedule.ts, widenWindow).
local state = redis.call('HMGET', KEYS[2], 'hotFrom', 'hotUntil')
local from = tonumber(ARGV[5])
local untilMs = tonumber(ARGV[6])
if state[1] and tonumber(state[1]) < from then from = tonumber(state[1]) end
if state[2] and tonumber(state[2]) > untilMs then untilMs = tonumber(state[2]) end
redis.call('HSET', KEYS[2], 'hotFrom', from, 'hotUntil', untilMs, 'idle', 0)
-- Due soon (a new bet is checked by id once), unless it is due sooner already.
redis.call('ZADD', KEYS[1], 'LT', ARGV[7], ARGV[1])
return CODE.ok
