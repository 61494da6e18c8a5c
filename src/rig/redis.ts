// The rig's Redis topologies: REDIS_URL when given, one private primary, a primary with replicas, or that plus three Sentinels.
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from '../infra/redis-server.js';
import { TcpProxy } from './proxy.js';
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
  /** The primary and the replicas (sentinel, replicated), in start order. */
  dataServers: PrivateRedis[];
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
/** Condition waits (replica synced, Sentinels acquainted): generous, since a loaded 2-core machine can take long. */
const readyWaitMsMax = 60_000;
/** How long a restarted old primary may take to sync before the rig restarts it once more (see failOver). */
const replicaResyncNudgeMs = 20_000;

async function stopAll(servers: Array<PrivateRedis | null>): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}

/** The replication fields that say where a replica stands (for an error that has to be read after the fact). */
function replicationSummary(info: string): string {
  const fields = ['role', 'master_host', 'master_port', 'master_link_status', 'master_sync_in_progress', 'master_link_down_since_seconds'];
  return fields.map((f) => new RegExp(`^${f}:(.*)$`, 'm').exec(info)?.[1]?.trim()).map((v, i) => `${fields[i]}=${v ?? '?'}`).join(' ');
}

/** Waits until the replica reports its link to the primary up (the first sync done); false after waitMs. */
async function replicaSyncedWithin(replica: PrivateRedis, waitMs: number): Promise<{ synced: boolean; info: string }> {
  const client = createRedis(replica.url, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const info = await client.info('replication');
      if (/master_link_status:up/.test(info)) return { synced: true, info };
      if (Date.now() > deadline) return { synced: false, info };
      await sleep(50);
    }
  } finally {
    client.disconnect();
  }
}

async function waitReplicaSynced(replica: PrivateRedis): Promise<void> {
  const { synced, info } = await replicaSyncedWithin(replica, readyWaitMsMax);
  if (!synced) throw new Error(`replica ${replica.url} did not sync with its primary within ${readyWaitMsMax} ms (${replicationSummary(info)})`);
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
    return { kind: 'given', url: o.givenUrl, env: redisEnvOf(o.givenUrl), primary: null, replicas: [], sentinels: [], dataServers: [], currentPrimary: async () => null, stop: async () => undefined };
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
      kind, url, env: redisEnvOf(url), primary, replicas, sentinels, dataServers,
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

export interface FailoverOptions {
  /**
   * Before the kill, the replica's link to the primary is re-routed through a TcpProxy and black-holed this
   * long: the primary goes on acknowledging writes the replica never gets, and the proxy's connections are
   * reset with the kill, so those writes are lost when the replica is promoted (asynchronous replication's
   * window, made wide on purpose). 0: a plain kill.
   */
  lagMs?: number;
  /** Longest wait for the Sentinels to promote the replica, and for the old primary to sync as a replica. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface FailoverResult {
  from: PrivateRedis;
  to: PrivateRedis;
  /** Replication bytes the old primary had acknowledged and the promoted replica never received (lost). */
  lostBytes: number;
  /** From the kill to the Sentinels naming the replica. */
  promotedAfterMs: number;
}

async function replicationOffset(server: PrivateRedis, field: 'master_repl_offset' | 'slave_repl_offset'): Promise<number> {
  const client = createRedis(server.url, { maxRetriesPerRequest: 1, connectTimeout: 1_000 });
  client.on('error', () => undefined);
  try {
    const info = await client.info('replication');
    return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

async function replicaOf(server: PrivateRedis, port: number): Promise<void> {
  const client = createRedis(server.url, { maxRetriesPerRequest: 1 });
  try {
    await client.call('REPLICAOF', '127.0.0.1', String(port));
  } finally {
    client.disconnect();
  }
}

/**
 * A Sentinel failover of the sentinel topology: SIGKILL the primary (after a replica lag window, see
 * lagMs), wait until the Sentinels promote the replica, then restart the old primary as a replica of the
 * new one (its AOF holds the writes the new primary lacks; the full resync drops them), so that the next
 * failover has a target again. Only a Sentinel would re-route a replica pointed through a proxy back
 * (+fix-slave-config, after failover-timeout), so the proxy is put in at the fault, not at start.
 */
export async function failOver(topology: RedisTopology, o: FailoverOptions = {}): Promise<FailoverResult> {
  if (topology.kind !== 'sentinel') throw new Error('failOver needs the sentinel topology');
  const timeoutMs = o.timeoutMs ?? 30_000;
  const from = await topology.currentPrimary();
  const to = topology.dataServers.find((s) => s !== from && s.process.exitCode === null && s.process.signalCode === null);
  if (!from || !to) throw new Error('failOver: no primary, or no live replica to promote');
  let link: TcpProxy | null = null;
  let lostBytes = 0;
  try {
    if ((o.lagMs ?? 0) > 0) {
      link = await TcpProxy.start({ host: '127.0.0.1', port: from.port });
      await replicaOf(to, link.port);
      await waitReplicaSynced(to);
      link.blackhole();
      await sleep(o.lagMs ?? 0);
    }
    const [primaryOffset, replicaOffset] = await Promise.all([replicationOffset(from, 'master_repl_offset'), replicationOffset(to, 'slave_repl_offset')]);
    from.process.kill('SIGKILL');
    // What the proxy held (acknowledged by the primary, not yet at the replica) dies with the primary.
    link?.drop();
    lostBytes = Math.max(0, primaryOffset - replicaOffset);
  } finally {
    await link?.close();
  }
  const killedAtMs = Date.now();
  const deadline = killedAtMs + timeoutMs;
  while ((await topology.currentPrimary()) !== to) {
    if (Date.now() > deadline) throw new Error(`the Sentinels did not promote ${to.url} within ${timeoutMs} ms`);
    await sleep(50);
  }
  const promotedAfterMs = Date.now() - killedAtMs;
  o.log?.(`failover: ${from.url} killed, ${to.url} promoted after ${promotedAfterMs} ms; ${lostBytes} replication byte(s) acknowledged by the old primary were lost`);
  await from.restart({ extraArgs: ['--replicaof', '127.0.0.1', String(to.port)] });
  // A restarted old primary has once stayed unsynced past a minute in a clean-clone CI run (cause not found: the
  // error now says where the replica stood). One more restart, pointed at whoever is primary then, before failing.
  const first = await replicaSyncedWithin(from, replicaResyncNudgeMs);
  if (!first.synced) {
    const primary = await topology.currentPrimary();
    o.log?.(`failover: ${from.url} not synced after ${replicaResyncNudgeMs} ms (${replicationSummary(first.info)}); restarted again as a replica of ${primary?.url ?? to.url}`);
    await from.restart({ extraArgs: ['--replicaof', '127.0.0.1', String((primary ?? to).port)] });
    await waitReplicaSynced(from);
  }
  return { from, to, lostBytes, promotedAfterMs };
}
