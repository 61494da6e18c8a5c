-- project_pnl: adds one batch of settled pairs (read from the audit stream) to the P&L per day and currency,
-- exactly once: the batch is applied only if the projection's cursor is still where the batch started, and
-- the cursor moves past it in the same step (two API processes racing cannot count a pair twice).
-- KEYS[1] cursor (last audit entry counted)   KEYS[2 ..] day hashes the batch touches
-- ARGV[1] the cursor the batch started from ('' = none yet)   ARGV[2] the batch's last entry id
-- ARGV[3] TTL of the day hashes, ms   ARGV[4 ..] triples (index into KEYS, field, increment)
-- Returns CODE.ok applied | CODE.moved another process moved the cursor first (nothing written)
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return CODE.moved
end
local i = 4
while i <= #ARGV do
  redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
  i = i + 3
end
for k = 2, #KEYS do
  redis.call('PEXPIRE', KEYS[k], ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[2])
return CODE.ok
