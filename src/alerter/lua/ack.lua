-- ack: every sink of an alert is done (delivered or dead-lettered): the entry leaves the pending list and
-- the alert's state goes with it.
-- KEYS[1] events stream   KEYS[2] the alert's state hash
-- ARGV[1] consumer group   ARGV[2] stream entry id
-- Returns 'acked' | 'already' (another alerter acknowledged it first)
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('DEL', KEYS[2])
if n == 1 then
  return 'acked'
end
return 'already'
