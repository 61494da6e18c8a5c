-- auth_failure: count one refused API request (401 or 403) of a client address in a fixed window, and append
-- it to the audit trail while the address is under its limit (a flood cannot grow the never-trimmed audit
-- stream by more than the limit per address and window).
-- KEYS[1] failure counter of the client address   KEYS[2] audit stream
-- ARGV[1] window ms   ARGV[2] failures allowed (and audited) per window   ARGV[3] audit type   ARGV[4] audit data JSON
-- Returns {failures counted in the window (this one included), ms left in the window}
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if n <= tonumber(ARGV[2]) then
  redis.call('XADD', KEYS[2], '*', 'type', ARGV[3], 'data', ARGV[4])
end
return {n, ttl}
