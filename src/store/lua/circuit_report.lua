-- circuit_report: a worker's counts of one circuit's outcomes since its last report, added to the circuit's
-- sliding window; the circuit opens in the same step when the window trips it (tripOf in src/domain/circuit.ts).
-- KEYS and ARGV[1..5]: see circuit.lua
-- ARGV[6] generation the counts were made under ('' = unknown)   ARGV[7] windowMs   ARGV[8] failureRatio
-- ARGV[9] minVolume   ARGV[10] accountFailuresMin   ARGV[11] coolOffMs   ARGV[12] coolOffMsMax
-- ARGV[13..17] counts: placements ok, placements failed, reads ok, reads failed, account failures
-- ARGV[18] the last failure's detail ('' = none), shown with the event
-- Returns {reply, state, generation, opened}: reply 'ok' counted | 'dropped' (not closed, or another generation);
-- opened 1 when this report opened the circuit.
local nowMs = redis_now_ms()
local c = circuit_load()
if c.state ~= 'closed' or (ARGV[6] ~= '' and tonumber(ARGV[6]) ~= c.generation) then
  return {'dropped', c.state, c.generation, 0}
end
if not c.exists then
  circuit_save(c)
  redis.call('HSET', KEYS[1], 'createdAtMs', nowMs)
  redis.call('ZADD', KEYS[4], 'NX', nowMs, SCOPE)
end
-- The window: 10 buckets of windowMs / 10, the current one included (cockatiel's SamplingBreaker keeps it so).
local windowMs = tonumber(ARGV[7])
local bucketMs = math.max(1, math.floor(windowMs / 10))
local bucket = math.floor(nowMs / bucketMs)
local batch = { {'ps', ARGV[13]}, {'pf', ARGV[14]}, {'rs', ARGV[15]}, {'rf', ARGV[16]}, {'af', ARGV[17]} }
for _, b in ipairs(batch) do
  if tonumber(b[2]) > 0 then redis.call('HINCRBY', KEYS[2], b[1] .. ':' .. bucket, b[2]) end
end
local sums = { ps = 0, pf = 0, rs = 0, rf = 0, af = 0 }
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local name, at = string.match(fields[i], '^(%a%a):(%d+)$')
  if name ~= nil and sums[name] ~= nil and tonumber(at) > bucket - 10 then
    sums[name] = sums[name] + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[2], fields[i])
  end
end
redis.call('PEXPIRE', KEYS[2], windowMs + bucketMs)

local trip = nil
if KIND == 'account' then
  if sums.af >= tonumber(ARGV[10]) then trip = { class = 'account', failures = sums.af, volume = sums.af, ratio = 1 } end
else
  local ratio = tonumber(ARGV[8])
  local minVolume = tonumber(ARGV[9])
  for _, cls in ipairs({ {'place', 'ps', 'pf'}, {'read', 'rs', 'rf'} }) do
    local ok, fail = sums[cls[2]], sums[cls[3]]
    local volume = ok + fail
    if trip == nil and volume >= minVolume and volume > 0 and fail >= ratio * volume then
      trip = { class = cls[1], failures = fail, volume = volume, ratio = fail / volume }
    end
  end
end
if trip == nil then
  return {'ok', c.state, c.generation, 0}
end
-- The streak restarts when the circuit had stayed closed a whole window since it last closed.
local calm = c.closedAtMs ~= nil and nowMs - c.closedAtMs >= windowMs
c.streak = ((calm and 0) or c.streak) + 1
c.openUntilMs = nowMs + cool_off_ms(c.streak, tonumber(ARGV[11]), tonumber(ARGV[12]))
c.probeToken = ''
c.probeUntilMs = nil
local window = { windowMs = windowMs, class = trip.class, failures = trip.failures, volume = trip.volume, ratio = trip.ratio }
if KIND == 'account' then
  window.accountFailuresMin = tonumber(ARGV[10])
else
  window.failureRatio = tonumber(ARGV[8])
  window.minVolume = tonumber(ARGV[9])
end
local extra = { window = window }
if ARGV[18] ~= '' then extra.detail = ARGV[18] end
circuit_move(c, 'open', (KIND == 'account' and 'account_failures') or 'failure_ratio', nowMs, extra)
return {'ok', c.state, c.generation, 1}
