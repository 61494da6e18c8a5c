// The rig's Redis topologies: REDIS_URL when given, one private primary, a primary with replicas, or that plus three Sentinels.
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from '../infra/redis-server.js';
import { createRedis, redisEnvOf, sentinelConnection, type RedisConnection } from '../store/connection.js';

export type TopologyKind = 'given' | 'single' | 'replicated' | 'sentinel';

export interface RedisTopology {
  kind: TopologyKind;
  /** What every client of the rig connects with: a `redis://` URL, or (sentinel) a `redis-sentinel://` target. */
  url: RedisConnection;
  /** The environment a child process (worker, CLI) needs to reach this Redis. */
  env: Record<string, string>;
  /** The private primary the rig started first (null on REDIS_URL); after a failover, see currentPrimary(). */
  primary: PrivateRedis | null;
  /** The replicas the rig started (replicated, sentinel). */
  replicas: PrivateRedis[];
  /** The Sentinels (sentinel). */
  sentinels: PrivateRedis[];
  /** The data server that is primary now (asks the Sentinels; else the first primary). */
  currentPrimary(): Promise<PrivateRedis | null>;
  stop(): Promise<void>;
}

export interface TopologyOptions extends Pick<PrivateRedisOptions, 'hz' | 'databases' | 'log'> {
  kind?: Exclude<TopologyKind, 'given'>;
  /** Use this Redis instead of starting one (the demo and the bench take REDIS_URL). */
  givenUrl?: string;
  /** Replicas of the primary (replicated, sentinel); default 1. */
  replicas?: number;
  /** Sentinel: the primary's name, and how fast a dead primary is noticed and replaced. */
  masterName?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}

const sentinelCount = 3;
const quorum = 2;
const readyWaitMsMax = 20_000;

async function stopAll(servers: Array<PrivateRedis | null>): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}

/** Waits until the replica reports its link to the primary up (the first sync done). */
async function waitReplicaSynced(replica: PrivateRedis): Promise<void> {
  const client = createRedis(replica.url, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + readyWaitMsMax;
    while (!/master_link_status:up/.test(await client.info('replication'))) {
      if (Date.now() > deadline) throw new Error(`replica ${replica.url} did not sync with its primary within ${readyWaitMsMax} ms`);
      await sleep(50);
    }
  } finally {
    client.disconnect();
  }
}

/** Asks one Sentinel after another for the primary's address (port). */
export async function sentinelPrimaryPort(sentinels: readonly PrivateRedis[], masterName: string): Promise<number | null> {
  for (const sentinel of sentinels) {
    if (sentinel.process.exitCode !== null || sentinel.process.signalCode !== null) continue;
    const client = createRedis(sentinel.url, { maxRetriesPerRequest: 0, connectTimeout: 500, retryStrategy: () => null, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const reply = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string] | null;
      if (reply) return Number(reply[1]);
    } catch {
      // the next one
    } finally {
      client.disconnect();
    }
  }
  return null;
}

/** Waits until every Sentinel knows the replicas and the other Sentinels (a failover needs the quorum to agree). */
async function waitSentinelsReady(sentinels: readonly PrivateRedis[], masterName: string, replicas: number): Promise<void> {
  const deadline = Date.now() + readyWaitMsMax;
  for (const sentinel of sentinels) {
    const client = createRedis(sentinel.url, { maxRetriesPerRequest: 1 });
    try {
      for (;;) {
        const knownReplicas = ((await client.call('SENTINEL', 'REPLICAS', masterName)) as unknown[]).length;
        const knownSentinels = ((await client.call('SENTINEL', 'SENTINELS', masterName)) as unknown[]).length;
        if (knownReplicas >= replicas && knownSentinels >= sentinels.length - 1) break;
        if (Date.now() > deadline) throw new Error(`sentinel ${sentinel.url} knows ${knownReplicas} replica(s) and ${knownSentinels} other sentinel(s) after ${readyWaitMsMax} ms`);
        await sleep(100);
      }
    } finally {
      client.disconnect();
    }
  }
}

/** Starts (or takes) the rig's Redis. */
export async function startRedisTopology(o: TopologyOptions = {}): Promise<RedisTopology> {
  const serverOptions: PrivateRedisOptions = { hz: o.hz ?? 50, ...(o.databases ? { databases: o.databases } : {}), ...(o.log ? { log: o.log } : {}) };
  if (o.givenUrl) {
    return { kind: 'given', url: o.givenUrl, env: redisEnvOf(o.givenUrl), primary: null, replicas: [], sentinels: [], currentPrimary: async () => null, stop: async () => undefined };
  }
  const kind = o.kind ?? 'single';
  const primary = await startPrivateRedis(serverOptions);
  const replicas: PrivateRedis[] = [];
  const sentinels: PrivateRedis[] = [];
  try {
    if (kind !== 'single') {
      for (let i = 0; i < (o.replicas ?? 1); i++) replicas.push(await startPrivateRedis({ ...serverOptions, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] }));
      for (const replica of replicas) await waitReplicaSynced(replica);
    }
    const masterName = o.masterName ?? 'bet-executor';
    if (kind === 'sentinel') {
      const sentinelConfig = [
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${masterName} ${o.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${masterName} ${o.failoverTimeoutMs ?? 5_000}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n');
      for (let i = 0; i < sentinelCount; i++) sentinels.push(await startPrivateRedis({ ...(o.log ? { log: o.log } : {}), sentinelConfig }));
      await waitSentinelsReady(sentinels, masterName, replicas.length);
    }
    const url = kind === 'sentinel' ? sentinelConnection({ sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), masterName }) : primary.url;
    const dataServers = [primary, ...replicas];
    return {
      kind, url, env: redisEnvOf(url), primary, replicas, sentinels,
      async currentPrimary() {
        if (kind !== 'sentinel') return primary;
        const port = await sentinelPrimaryPort(sentinels, masterName);
        return dataServers.find((s) => s.port === port) ?? null;
      },
      stop: () => stopAll([...sentinels, ...replicas, primary]),
    };
  } catch (error) {
    await stopAll([...sentinels, ...replicas, primary]);
    throw error;
  }
}
