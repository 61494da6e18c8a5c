// Gives each test its own database on the run's private redis-server (started by scripts/run-tests.ts).
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../src/infra/redis-server.js';
import { Store } from '../../src/store/store.js';

let ownServer: Promise<PrivateRedis> | undefined;

async function baseUrl(): Promise<string> {
  const url = process.env.TEST_REDIS_URL;
  if (url) return url;
  // Running a file directly (node --test file): start a private server for this process.
  ownServer ??= startPrivateRedis({ databases: 1024 });
  const server = await ownServer;
  process.once('exit', () => server.process.kill('SIGKILL'));
  return server.url;
}

/** A fresh, empty Redis database URL (redis://host:port/N) for one test. */
export async function freshRedisUrl(): Promise<string> {
  const url = await baseUrl();
  const admin = new Redis(url);
  try {
    const db = await admin.incr('test:db-counter');
    if (db >= 1024) throw new Error(`test databases exhausted (${db} >= 1024)`);
    const dbUrl = `${url}/${db}`;
    const client = new Redis(dbUrl);
    await client.flushdb();
    client.disconnect();
    return dbUrl;
  } finally {
    admin.disconnect();
  }
}

export async function stopOwnServer(): Promise<void> {
  if (ownServer) await (await ownServer).stop();
}

/** A store on a fresh database (events stream capped at 1,000), for the store's own tests; disconnect `redis` after. */
export async function storeOnFreshRedis(): Promise<{ redis: Redis; store: Store }> {
  const redis = new Redis(await freshRedisUrl());
  return { redis, store: new Store(redis, 1000) };
}
