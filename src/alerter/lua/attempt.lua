-- attempt: one delivery attempt of an alert to one sink begins, or is found not needed.
-- The attempt is counted before the request leaves, so one cut short by a crash counts toward the limit;
-- the entry's idle time is reset (XCLAIM to itself), so no other alerter claims it while it is worked on.
-- KEYS[1] events stream   KEYS[2] the alert's state hash
-- ARGV[1] consumer group   ARGV[2] this consumer   ARGV[3] stream entry id   ARGV[4] sink name   ARGV[5] state TTL ms
-- Returns {'go', attempt}                  the attempt number (1 for the first)
--       | {'done', 'delivered'|'dead'}     this sink needs nothing more
--       | {'not_owner'}                    the entry is not pending to this consumer (claimed by another alerter, or acknowledged)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return {'not_owner'}
end
local status = redis.call('HGET', KEYS[2], 'sink:' .. ARGV[4])
if status then
  return {'done', status}
end
local attempt = redis.call('HINCRBY', KEYS[2], 'attempts:' .. ARGV[4], 1)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return {'go', attempt}
