-- touch: an alerter still working on its entries resets their idle time, so no other alerter claims them;
-- an entry claimed by another alerter meanwhile (this one was frozen) is left to it.
-- KEYS[1] events stream
-- ARGV[1] consumer group   ARGV[2] this consumer   ARGV[3..] stream entry ids
-- Returns the ids that are no longer pending to this consumer (stop working on them)
local lost = {}
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #pending == 1 and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
