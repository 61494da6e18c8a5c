-- circuit_probe: a worker's probe of a circuit, in two steps around a request that places no bet.
-- 'begin' takes the probe lock: an open circuit whose cool-off is over goes half-open under this worker's token
-- (circuit_half_open); a half-open one whose lock expired (its prober died or hung) is taken over. 'end' applies
-- the result under the token and generation the lock was granted in: closed (circuit_closed) or open again for a
-- longer cool-off (circuit_opened, reason probe_failed).
-- KEYS and ARGV[1..5]: see circuit.lua
-- ARGV[6] 'begin' | 'end'   ARGV[7] token
-- begin: ARGV[8] lock ms
-- end:   ARGV[8] generation granted   ARGV[9] '1' the probe succeeded, '0' it failed   ARGV[10] what the probe got
--        ARGV[11] coolOffMs   ARGV[12] coolOffMsMax
-- Returns {reply, state, generation}: begin 'ok' lock granted | 'busy'; end 'ok' applied | 'fenced' (not ours any more)
local nowMs = redis_now_ms()
local c = circuit_load()
if ARGV[6] == 'begin' then
  if c.forced then
    return {'busy', c.state, c.generation}
  end
  if c.state == 'open' and c.openUntilMs ~= nil and nowMs >= c.openUntilMs then
    c.probeToken = ARGV[7]
    c.probeUntilMs = nowMs + tonumber(ARGV[8])
    circuit_move(c, 'half_open', 'cool_off_over', nowMs, {})
    return {'ok', c.state, c.generation}
  end
  if c.state == 'half_open' and c.probeUntilMs ~= nil and nowMs >= c.probeUntilMs then
    c.probeToken = ARGV[7]
    c.probeUntilMs = nowMs + tonumber(ARGV[8])
    circuit_save(c)
    redis.call('ZADD', KEYS[3], c.probeUntilMs, SCOPE)
    audit('circuit_probe_taken_over', { scope = SCOPE, generation = c.generation, atMs = nowMs })
    return {'ok', c.state, c.generation}
  end
  return {'busy', c.state, c.generation}
end
if c.state ~= 'half_open' or c.probeToken ~= ARGV[7] or c.generation ~= tonumber(ARGV[8]) then
  return {'fenced', c.state, c.generation}
end
c.probeToken = ''
c.probeUntilMs = nil
if ARGV[9] == '1' then
  c.closedAtMs = nowMs
  c.openUntilMs = nil
  circuit_move(c, 'closed', 'probe_succeeded', nowMs, { probe = ARGV[10] })
else
  c.streak = c.streak + 1
  c.openUntilMs = nowMs + cool_off_ms(c.streak, tonumber(ARGV[11]), tonumber(ARGV[12]))
  circuit_move(c, 'open', 'probe_failed', nowMs, { probe = ARGV[10] })
end
return {'ok', c.state, c.generation}
