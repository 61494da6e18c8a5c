-- lease: renew or release a pair's lease, only by its holder.
-- KEYS[1] lease (lock:arb:{arbId})   KEYS[2] open pairs zset
-- ARGV[1] lease token   ARGV[2] 'renew' | 'release' | 'release_close'   ARGV[3] lease ms (renew)   ARGV[4] arbId
-- 'release_close' also takes the pair out of the open set (its work is done and handed on).
-- Returns CODE.ok done, CODE.fenced the lease is not ours (expired or taken)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return CODE.fenced
end
if ARGV[2] == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
  if ARGV[2] == 'release_close' then
    redis.call('ZREM', KEYS[2], ARGV[4])
  end
end
return CODE.ok
