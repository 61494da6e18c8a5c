-- record: the outcome of one delivery attempt, on the deliveries stream; a final outcome also marks the sink
-- done in the alert's state. A dead-letter is pushed on the dead list and, unless the alert is itself a
-- dead-letter alert, raised as an alert_dead_lettered event for the other sinks, all in this one step.
-- KEYS[1] the alert's state hash   KEYS[2] deliveries stream   KEYS[3] dead list   KEYS[4] events stream
-- ARGV[1] sink   ARGV[2] result: delivered | failed | dead   ARGV[3] alertKey   ARGV[4] eventId   ARGV[5] eventType
-- ARGV[6] attempt   ARGV[7] httpStatus ('' when there was no answer)   ARGV[8] error ('' when none)   ARGV[9] atMs
-- ARGV[10] state TTL ms   ARGV[11] deliveries MAXLEN (~)   ARGV[12] dead list length max   ARGV[13] events MAXLEN (~)
-- ARGV[14] dead-letter record JSON (result dead)   ARGV[15] alert_dead_lettered event data JSON ('' = raise none)
-- ARGV[16] the consumer (alerter process) that made the attempt
-- Returns 'recorded' | 'already' (the sink was final already: a second dead-letter or delivery changes nothing but the record)
local field = 'sink:' .. ARGV[1]
local result = ARGV[2]
local already = redis.call('HGET', KEYS[1], field)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], '*',
  'alertKey', ARGV[3], 'eventId', ARGV[4], 'eventType', ARGV[5], 'sink', ARGV[1], 'attempt', ARGV[6],
  'result', result, 'httpStatus', ARGV[7], 'error', ARGV[8], 'atMs', ARGV[9], 'consumer', ARGV[16])
if result == 'failed' then
  return 'recorded'
end
if already then
  return 'already'
end
redis.call('HSET', KEYS[1], field, result)
redis.call('PEXPIRE', KEYS[1], ARGV[10])
if result == 'dead' then
  redis.call('LPUSH', KEYS[3], ARGV[14])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[12]) - 1)
  if ARGV[15] ~= '' then
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[13], '*', 'type', 'alert_dead_lettered', 'data', ARGV[15])
  end
end
return 'recorded'
