// The one Redis connection factory: every process (worker, API, alerter, CLI, rig) connects through it.
import { Redis, type RedisOptions } from 'ioredis';

/** A connection to the Redis at `url` (`redis://host:port[/db]`), with the caller's options. */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, options);
}
