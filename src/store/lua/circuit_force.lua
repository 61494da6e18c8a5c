-- circuit_force: an operator forces a circuit open (it stays open, never probed, until forced closed) or closed
-- (normal operation again: it can trip like any closed circuit), recorded with who, through what and why on the
-- audit and events streams in the same step.
-- KEYS and ARGV[1..5]: see circuit.lua
-- ARGV[6] 'open' | 'close'   ARGV[7] reason (the operator's)   ARGV[8] by   ARGV[9] via (cli | api)
-- Returns {reply, state, generation}: 'ok' changed | 'already' (open: forced open already, the reason replaced and
-- audited; close: closed and not forced, nothing recorded)
local nowMs = redis_now_ms()
local c = circuit_load()
local extra = { note = ARGV[7], by = ARGV[8], via = ARGV[9] }
if ARGV[6] == 'open' then
  if c.forced then
    redis.call('HSET', KEYS[1], 'note', ARGV[7], 'by', ARGV[8], 'via', ARGV[9])
    audit('circuit_forced_open_again', { scope = SCOPE, provider = PROVIDER, note = ARGV[7], by = ARGV[8], via = ARGV[9], atMs = nowMs })
    return {'already', c.state, c.generation}
  end
  if not c.exists then redis.call('HSET', KEYS[1], 'createdAtMs', nowMs) end
  c.forced = true
  c.openUntilMs = nil
  c.probeToken = ''
  c.probeUntilMs = nil
  circuit_move(c, 'open', 'forced', nowMs, extra)
  return {'ok', c.state, c.generation}
end
if c.state == 'closed' and not c.forced then
  return {'already', c.state, c.generation}
end
c.forced = false
c.streak = 0
c.closedAtMs = nowMs
c.openUntilMs = nil
c.probeToken = ''
c.probeUntilMs = nil
circuit_move(c, 'closed', 'forced', nowMs, extra)
return {'ok', c.state, c.generation}
