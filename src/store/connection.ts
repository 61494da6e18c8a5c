// The one Redis connection factory: every process (worker, API, alerter, CLI, rig) and every BullMQ queue connects through it.
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../config.js';

/**
 * Where Redis is, as one string every process passes around: a plain `redis://[user:pass@]host:port[/db]`
 * URL, or a Sentinel target `redis-sentinel://[user:pass@]host:port,host:port,.../masterName[/db]` (the
 * sentinels to ask, and the name of the primary they watch). Built from the environment by
 * redisConnectionFromEnv: REDIS_SENTINELS (`host:port,host:port`) with REDIS_MASTER_NAME, else REDIS_URL.
 */
export type RedisConnection = string;

export interface SentinelTarget {
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  db: number;
  username?: string;
  password?: string;
  /**
   * Addresses the Sentinels report (`host:port`) → the address to dial instead, for servers behind NAT or a
   * proxy (REDIS_SENTINEL_NAT_MAP, `host:port>host:port,...`; ioredis's natMap).
   */
  natMap?: Record<string, { host: string; port: number }>;
}

const sentinelScheme = 'redis-sentinel://';
const sentinelsMax = 16;
const hostPortRe = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):([0-9]{1,5})$/;
const masterNameRe = /^[A-Za-z0-9_.-]{1,64}$/;

function parseHostPorts(list: string, what: string): SentinelTarget['sentinels'] {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new ConfigError(`${what}: no sentinel given (host:port,host:port)`);
  if (items.length > sentinelsMax) throw new ConfigError(`${what}: ${items.length} sentinels, at most ${sentinelsMax}`);
  return items.map((item) => {
    const m = hostPortRe.exec(item);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65_535) throw new ConfigError(`${what}: "${item.slice(0, 80)}" is not host:port`);
    return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  });
}

/** The sentinels, master name and database of a `redis-sentinel://` target; null for a plain URL. */
export function parseSentinelTarget(connection: RedisConnection): SentinelTarget | null {
  if (!connection.startsWith(sentinelScheme)) return null;
  let rest = connection.slice(sentinelScheme.length);
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : undefined;
  }
  const query = rest.indexOf('?');
  const natText = query >= 0 ? new URLSearchParams(rest.slice(query + 1)).get('natMap') : null;
  if (query >= 0) rest = rest.slice(0, query);
  const [hosts = '', masterName = '', dbText = '0', ...extra] = rest.split('/');
  if (extra.length > 0 || !masterNameRe.test(masterName)) throw new ConfigError('a Sentinel target is redis-sentinel://host:port,host:port/masterName[/db]');
  const db = Number(dbText);
  if (!Number.isSafeInteger(db) || db < 0) throw new ConfigError(`Sentinel target: database "${dbText.slice(0, 20)}" is not an integer >= 0`);
  return {
    sentinels: parseHostPorts(hosts, 'Sentinel target'), masterName, db, ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}),
    ...(natText ? { natMap: parseNatMap(natText, 'Sentinel target natMap') } : {}),
  };
}

function parseNatMap(text: string, what: string): NonNullable<SentinelTarget['natMap']> {
  const map: NonNullable<SentinelTarget['natMap']> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).slice(0, sentinelsMax * 4)) {
    const [from = '', to = ''] = item.split('>');
    const [fromAddress] = parseHostPorts(from, what);
    const [toAddress] = parseHostPorts(to, what);
    if (!fromAddress || !toAddress) throw new ConfigError(`${what}: "${item.slice(0, 80)}" is not host:port>host:port`);
    map[`${fromAddress.host}:${fromAddress.port}`] = toAddress;
  }
  return map;
}

function natMapText(natMap: NonNullable<SentinelTarget['natMap']>): string {
  return Object.entries(natMap).map(([from, to]) => `${from}>${to.host}:${to.port}`).join(',');
}

/** The `redis-sentinel://` target of these sentinels and master (the inverse of parseSentinelTarget). */
export function sentinelConnection(target: Omit<SentinelTarget, 'db'> & { db?: number }): RedisConnection {
  const auth = target.username || target.password ? `${encodeURIComponent(target.username ?? '')}${target.password !== undefined ? `:${encodeURIComponent(target.password)}` : ''}@` : '';
  const nat = target.natMap && Object.keys(target.natMap).length > 0 ? `?natMap=${natMapText(target.natMap)}` : '';
  return `${sentinelScheme}${auth}${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${target.masterName}${target.db ? `/${target.db}` : ''}${nat}`;
}

/**
 * The Redis of this process's environment: REDIS_SENTINELS (`host:port,...`) and REDIS_MASTER_NAME (both, or
 * neither; REDIS_USERNAME / REDIS_PASSWORD / REDIS_DB apply to the primary), else REDIS_URL; undefined when none.
 */
export function redisConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): RedisConnection | undefined {
  const sentinels = env.REDIS_SENTINELS?.trim();
  const masterName = env.REDIS_MASTER_NAME?.trim();
  if (sentinels || masterName) {
    if (!sentinels || !masterName) throw new ConfigError('REDIS_SENTINELS and REDIS_MASTER_NAME go together (the sentinels, and the name of the primary they watch)');
    if (!masterNameRe.test(masterName)) throw new ConfigError('REDIS_MASTER_NAME must match [A-Za-z0-9_.-]{1,64}');
    const db = Number(env.REDIS_DB ?? '0');
    if (!Number.isSafeInteger(db) || db < 0) throw new ConfigError('REDIS_DB must be an integer >= 0');
    return sentinelConnection({
      sentinels: parseHostPorts(sentinels, 'REDIS_SENTINELS'), masterName, db,
      ...(env.REDIS_USERNAME ? { username: env.REDIS_USERNAME } : {}),
      ...(env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {}),
      ...(env.REDIS_SENTINEL_NAT_MAP ? { natMap: parseNatMap(env.REDIS_SENTINEL_NAT_MAP, 'REDIS_SENTINEL_NAT_MAP') } : {}),
    });
  }
  return env.REDIS_URL || undefined;
}

/** The environment a child process needs to reach this Redis (the inverse of redisConnectionFromEnv). */
export function redisEnvOf(connection: RedisConnection): Record<string, string> {
  const target = parseSentinelTarget(connection);
  if (target === null) return { REDIS_URL: connection };
  return {
    REDIS_SENTINELS: target.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    REDIS_MASTER_NAME: target.masterName,
    REDIS_DB: String(target.db),
    ...(target.username ? { REDIS_USERNAME: target.username } : {}),
    ...(target.password !== undefined ? { REDIS_PASSWORD: target.password } : {}),
    ...(target.natMap ? { REDIS_SENTINEL_NAT_MAP: natMapText(target.natMap) } : {}),
  };
}

/** A connection as it may be printed: without its password. */
export function redactedConnection(connection: RedisConnection): string {
  const target = parseSentinelTarget(connection);
  if (target !== null) return sentinelConnection({ ...target, ...(target.password !== undefined ? { password: '***' } : {}) });
  if (!URL.canParse(connection)) return '(unparseable REDIS_URL)';
  const parsed = new URL(connection);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * After a failover the old primary comes back as a replica: a write that reaches it is refused READONLY.
 * Reconnecting (through the sentinels, to the new primary) and resending the command is right for that
 * one error: the replica did not run it.
 */
function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/** A connection to the Redis of `connection` (a URL or a Sentinel target), with the caller's options. */
export function createRedis(connection: RedisConnection, options: RedisOptions = {}): Redis {
  const target = parseSentinelTarget(connection);
  if (target === null) return new Redis(connection, options);
  return new Redis({
    sentinels: target.sentinels,
    name: target.masterName,
    role: 'master',
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.natMap ? { natMap: target.natMap } : {}),
    // Told of a new primary by the sentinels (+switch-master) instead of finding out by a failed command.
    failoverDetector: true,
    // A sentinel that is down is skipped; the list is retried with a short, capped backoff.
    sentinelRetryStrategy: (times: number) => Math.min(times * 100, 1_000),
    reconnectOnError: reconnectOnReadonly,
    ...options,
  });
}
