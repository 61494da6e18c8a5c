-- lease: renew or release a pair's lease, only by its holder.
-- KEYS[1] lease (lock:arb:{arbId})
-- ARGV[1] lease token   ARGV[2] 'renew' | 'release'   ARGV[3] lease ms (renew)
-- Returns 1 done, 0 the lease is not ours (expired or taken)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
