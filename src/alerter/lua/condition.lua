-- condition: a dead-man's switch condition as one alerter sees it now. The first alerter to see it hold raises
-- deadman_alert; while it holds, it is raised again every realert interval; the first to see it clear raises
-- deadman_resolved. One step, so two alerters never both raise the same alert. Time is Redis time.
-- KEYS[1] the condition's state hash   KEYS[2] events stream
-- ARGV[1] condition name   ARGV[2] '1' holds | '0' clear   ARGV[3] realert interval ms   ARGV[4] events MAXLEN (~)
-- ARGV[5] detail (text for the alert)
-- Returns 'fired' | 'realerted' | 'resolved' | 'quiet'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local since = redis.call('HGET', KEYS[1], 'sinceMs')
local function raise(type, data)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'type', type, 'data', cjson.encode(data))
end
if ARGV[2] == '1' then
  if not since then
    redis.call('HSET', KEYS[1], 'sinceMs', now, 'lastAlertMs', now, 'count', 1)
    raise('deadman_alert', { condition = ARGV[1], sinceMs = now, count = 1, detail = ARGV[5] })
    return 'fired'
  end
  local last = tonumber(redis.call('HGET', KEYS[1], 'lastAlertMs'))
  if now - last >= tonumber(ARGV[3]) then
    local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
    redis.call('HSET', KEYS[1], 'lastAlertMs', now)
    raise('deadman_alert', { condition = ARGV[1], sinceMs = tonumber(since), count = count, detail = ARGV[5] })
    return 'realerted'
  end
  return 'quiet'
end
if since then
  redis.call('DEL', KEYS[1])
  raise('deadman_resolved', { condition = ARGV[1], sinceMs = tonumber(since), clearedAtMs = now, detail = ARGV[5] })
  return 'resolved'
end
return 'quiet'
