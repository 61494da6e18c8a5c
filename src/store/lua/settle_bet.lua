-- settle_bet: record the final result of one polled bet, once, and say whether the pair is complete.
-- KEYS[1] settlement results hash (be:settle:{arbId})   KEYS[2] events stream   KEYS[3] audit stream
-- ARGV[1] client reference   ARGV[2] final status or 'timeout'   ARGV[3] bets the pair polls
-- ARGV[4] events stream max length   ARGV[5] bet_settled event data JSON   ARGV[6] results TTL ms
-- Returns {complete (1|0), recorded (1 first time | 0 repeat)}
local recorded = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if recorded == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'bet_settled', 'data', ARGV[5])
  redis.call('XADD', KEYS[3], '*', 'type', 'bet_settled', 'data', ARGV[5])
end
local complete = 0
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then complete = 1 end
return {complete, recorded}
