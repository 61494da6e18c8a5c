-- resettle_bet: a bet's result changed at the bookmaker after it was recorded (a re-settled market, a
-- corrected result, or a result found for a bet whose polling had timed out): the new result replaces the
-- old one, once, and is announced.
-- KEYS[1] settlement results hash (be:settle:{arbId})   KEYS[2] events stream   KEYS[3] audit stream
-- ARGV[1] client reference   ARGV[2] the result the caller saw   ARGV[3] the new result
-- ARGV[4] events stream max length   ARGV[5] bet_resettled event data JSON
-- Returns CODE.ok recorded | CODE.already the result is no longer ARGV[2] (another check recorded it)
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return CODE.already
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', 'bet_resettled', 'data', ARGV[5])
redis.call('XADD', KEYS[3], '*', 'type', 'bet_resettled', 'data', ARGV[5])
return CODE.ok
