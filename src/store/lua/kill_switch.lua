-- kill_switch: engage or release one kill switch with its index entry, its audit entry (who, why) and its
-- event, in one atomic step. The switch's value stays the reason (the executor only checks that it exists).
-- KEYS[1] the switch (be:kill:global | be:kill:provider:{p} | be:kill:account:{wl}:{p}:{acct})
-- KEYS[2] kill index hash (field: switch key)   KEYS[3] audit stream   KEYS[4] events stream
-- ARGV[1] 'set' | 'clear'   ARGV[2] reason   ARGV[3] index entry JSON (scope, reason, by, atMs)
-- ARGV[4] audit and event data JSON   ARGV[5] events stream max length
-- Returns CODE.ok the switch changed (set: it was not set; clear: it was set) and the change is recorded
--         CODE.already set: it was set already (reason and index entry replaced, recorded); clear: it was not set (only a stale index entry dropped, nothing recorded)
local existed = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[1] == 'set' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('HSET', KEYS[2], KEYS[1], ARGV[3])
  redis.call('XADD', KEYS[3], '*', 'type', 'kill_switch_set', 'data', ARGV[4])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'type', 'kill_switch_set', 'data', ARGV[4])
  if existed then return CODE.already end
  return CODE.ok
end
redis.call('HDEL', KEYS[2], KEYS[1])
if not existed then
  return CODE.already
end
redis.call('DEL', KEYS[1])
redis.call('XADD', KEYS[3], '*', 'type', 'kill_switch_cleared', 'data', ARGV[4])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'type', 'kill_switch_cleared', 'data', ARGV[4])
return CODE.ok
