-- circuit (prelude of the circuit_* scripts, after CODE and fence.lua): one circuit's record and the one way it
-- changes state, with its event, audit entry, indexes and counter in the same step. The rules are those of
-- src/domain/circuit.ts (stepCircuit), which test/store/circuit.test.ts runs side by side with these scripts.
-- KEYS[1] circuit hash   KEYS[2] its window hash   KEYS[3] not-closed zset (scope → when a probe may come)
-- KEYS[4] all-circuits zset (scope → last change)   KEYS[5] transitions hash   KEYS[6] events stream   KEYS[7] audit stream
-- ARGV[1] scope   ARGV[2] kind (provider | account)   ARGV[3] provider   ARGV[4] account id ('' for a provider)
-- ARGV[5] events stream max length
local SCOPE, KIND, PROVIDER, ACCOUNT = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local EVENT_OF = { open = 'circuit_opened', half_open = 'circuit_half_open', closed = 'circuit_closed' }
-- Opens in a row beyond this no longer double the cool-off (as coolOffMsFor).
local STREAK_DOUBLINGS_MAX = 30

local function circuit_load()
  local v = redis.call('HMGET', KEYS[1], 'state', 'generation', 'forced', 'streak', 'openUntilMs', 'closedAtMs', 'probeToken', 'probeUntilMs')
  return {
    exists = v[1] ~= false,
    state = v[1] or 'closed',
    generation = tonumber(v[2]) or 0,
    forced = v[3] == '1',
    streak = tonumber(v[4]) or 0,
    openUntilMs = tonumber(v[5]),
    closedAtMs = tonumber(v[6]),
    probeToken = v[7] or '',
    probeUntilMs = tonumber(v[8]),
  }
end

local function circuit_save(c)
  redis.call('HSET', KEYS[1], 'scope', SCOPE, 'kind', KIND, 'provider', PROVIDER, 'accountId', ACCOUNT,
    'state', c.state, 'generation', c.generation, 'forced', c.forced and '1' or '', 'streak', c.streak,
    'openUntilMs', c.openUntilMs or '', 'closedAtMs', c.closedAtMs or '', 'probeToken', c.probeToken or '', 'probeUntilMs', c.probeUntilMs or '')
end

-- The cool-off of the streak-th open in a row: coolOffMs doubled each time, at most coolOffMsMax.
local function cool_off_ms(streak, coolOffMs, coolOffMsMax)
  local doublings = math.min(math.max(streak, 1) - 1, STREAK_DOUBLINGS_MAX)
  return math.min(coolOffMs * 2 ^ doublings, coolOffMsMax)
end

local function audit(type, data)
  redis.call('XADD', KEYS[7], '*', 'type', type, 'data', cjson.encode(data))
end

-- Moves the circuit to `to` (generation + 1) and writes everything that goes with it: the record (with the
-- operator's by/via/note when `extra` has them, cleared otherwise), a fresh window, the indexes, the transition
-- counter, and the event and audit entry whose data is the change with `extra`'s figures.
local function circuit_move(c, to, reason, nowMs, extra)
  local from = c.state
  c.state = to
  c.generation = c.generation + 1
  circuit_save(c)
  local data = {
    scope = SCOPE, kind = KIND, provider = PROVIDER, accountId = (ACCOUNT ~= '' and ACCOUNT) or cjson.null,
    from = from, to = to, reason = reason, generation = c.generation, streak = c.streak, forced = c.forced, atMs = nowMs,
  }
  if to == 'open' and not c.forced then
    data.openUntilMs = c.openUntilMs
    data.coolOffMs = c.openUntilMs - nowMs
  end
  for k, v in pairs(extra) do data[k] = v end
  local json = cjson.encode(data)
  redis.call('HSET', KEYS[1], 'changedAtMs', nowMs, 'reason', reason, 'by', extra.by or '', 'via', extra.via or '', 'note', extra.note or '', 'lastChange', json)
  redis.call('DEL', KEYS[2])
  if to == 'closed' then
    redis.call('ZREM', KEYS[3], SCOPE)
  elseif c.forced then
    redis.call('ZADD', KEYS[3], '+inf', SCOPE)
  elseif to == 'open' then
    redis.call('ZADD', KEYS[3], c.openUntilMs, SCOPE)
  else
    redis.call('ZADD', KEYS[3], c.probeUntilMs, SCOPE)
  end
  redis.call('ZADD', KEYS[4], nowMs, SCOPE)
  redis.call('HINCRBY', KEYS[5], PROVIDER .. ':' .. KIND .. ':' .. to, 1)
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[5], '*', 'type', EVENT_OF[to], 'data', json)
  redis.call('XADD', KEYS[7], '*', 'type', EVENT_OF[to], 'data', json)
end
