-- hold_cooldown: keep a pair's hold on an account's cooldown while the bookmaker may still take a bet it sent
-- (a pending bet, held at every status poll; whatever a resumed pair's previous holder sent), outside a journal
-- transition. Fenced by the lease.
-- KEYS[1] cooldown key   KEYS[2] its owner key   KEYS[3] lease (lock:arb:{arbId})
-- ARGV[1] lease token   ARGV[2] arbId   ARGV[3] hold ms (the key expires no sooner than this from now)
-- Returns CODE.ok held (or already held longer) | CODE.cooldownConflict another pair holds the account
--         | CODE.fenced the lease is not ours
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return CODE.fenced
end
local _, seconds = redis_now_ms()
if hold_cooldown(KEYS[1], KEYS[2], ARGV[2], ARGV[3], seconds) then
  return CODE.ok
end
return CODE.cooldownConflict
