-- review (prelude of the scripts that write an arb's review entry, after fence.lua): review entries keyed by
-- arbId in be:review:open / be:review:resolved, and the betPairId's set of arbIds with an open entry (while
-- it is not empty, preflight blocks new arbs of the betPairId). The decision (open, update the open entry,
-- append to the resolution, nothing) is taken in TypeScript by src/domain/review.ts; these functions check
-- that it was taken on what Redis holds now, and apply it.

-- True when the arb's open and resolved entries are still exactly what the caller read ('' = absent).
local function review_unchanged(openKey, resolvedKey, arbId, expectedOpen, expectedResolved)
  local open = redis.call('HGET', openKey, arbId) or ''
  local resolved = redis.call('HGET', resolvedKey, arbId) or ''
  return open == expectedOpen and resolved == expectedResolved
end

-- The review actions review_apply knows; a script checks its action against these before it writes anything.
local reviewActions = { none = true, open = true, update_open = true, append_resolved = true }

-- Applies a review decision for one arb:
-- 'open': a new entry, the arb in the betPairId's set, the contract key written with a fresh TTL;
-- 'update_open': the entry's record replaced, the contract key too (its TTL kept while it lives);
-- 'append_resolved': the resolution replaced by one with the update appended; nothing blocks again;
-- 'none': nothing.
local function review_apply(action, openKey, resolvedKey, setKey, exposureKey, arbId, json, ttlMs)
  if action == 'open' or action == 'update_open' then
    redis.call('HSET', openKey, arbId, json)
    redis.call('SADD', setKey, arbId)
    if action == 'update_open' and redis.call('EXISTS', exposureKey) == 1 then
      redis.call('SET', exposureKey, json, 'KEEPTTL')
    else
      redis.call('SET', exposureKey, json, 'PX', ttlMs)
    end
  elseif action == 'append_resolved' then
    redis.call('HSET', resolvedKey, arbId, json)
  end
end
