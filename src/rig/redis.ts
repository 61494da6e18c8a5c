// The rig's Redis: REDIS_URL when given, else a private redis-server (one primary) started and stopped by the rig.
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from '../infra/redis-server.js';

export interface RedisTopology {
  kind: 'given' | 'single';
  /** What every client of the rig connects with (workers, API, alerter, CLI): a `redis://` URL. */
  url: string;
  /** The environment a child process (worker, CLI) needs to reach this Redis. */
  env: Record<string, string>;
  /** The private primary, when the rig started one (null on REDIS_URL). */
  primary: PrivateRedis | null;
  stop(): Promise<void>;
}

export interface TopologyOptions extends Pick<PrivateRedisOptions, 'hz' | 'databases' | 'log'> {
  /** Use this Redis instead of starting one (the demo and the bench take REDIS_URL). */
  givenUrl?: string;
}

/** Starts (or takes) the rig's Redis. */
export async function startRedisTopology(o: TopologyOptions = {}): Promise<RedisTopology> {
  if (o.givenUrl) return { kind: 'given', url: o.givenUrl, env: { REDIS_URL: o.givenUrl }, primary: null, stop: async () => undefined };
  const server = await startPrivateRedis({ hz: o.hz ?? 50, ...(o.databases ? { databases: o.databases } : {}), ...(o.log ? { log: o.log } : {}) });
  return { kind: 'single', url: server.url, env: { REDIS_URL: server.url }, primary: server, stop: () => server.stop() };
}
