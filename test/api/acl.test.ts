// The example Redis ACL file (ops/redis/users.acl), loaded into a private redis-server: a worker, the CLI and the API do
// their work under their own users with no command denied, and the API user cannot flush, trim the audit or touch the queue.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createToken } from '../../src/api/auth.js';
import { parseApiConfig } from '../../src/api/config.js';
import { startApi, type RunningApi } from '../../src/app/api.js';
import { parseConfig } from '../../src/config.js';
import { startWorker, type RunningWorker } from '../../src/app/worker.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/infra/redis-server.js';
import { closeProviders, providersFromConfig } from '../../src/providers/factory.js';
import { startSimServer, type SimServer } from '../../src/sim/server.js';
import { eventsStream } from '../../src/store/keys.js';
import { readStream } from '../../src/store/store.js';
import { fastTimings, makePair } from '../support/harness.js';

const run = promisify(execFile);
type Role = 'admin' | 'worker' | 'api' | 'operator';
const password = (role: Role) => `test-password-of-${role}`;

/** The example file with each placeholder replaced by the SHA-256 of the role's test password. */
function aclFileForTest(dir: string): string {
  const example = readFileSync('ops/redis/users.acl', 'utf8');
  const users = example.split('\n').filter((l) => l.startsWith('user ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(users, ['default', 'bet-admin', 'bet-worker', 'bet-api', 'bet-operator']);
  const filled = example.replace(/#REPLACE_WITH_SHA256_OF_THE_([A-Z]+)_PASSWORD/g, (_m, role: string) => `#${createHash('sha256').update(password(role.toLowerCase() as Role)).digest('hex')}`);
  assert.ok(!filled.includes('REPLACE_WITH'), 'every placeholder is replaced');
  const file = join(dir, 'users.acl');
  writeFileSync(file, filled);
  return file;
}

describe('the example Redis ACL file', () => {
  let server: PrivateRedis;
  let url: (role: Role) => string;
  let admin: Redis;
  let apiRedis: Redis;
  let bookA: SimServer;
  let bookB: SimServer;
  let worker: RunningWorker;
  let api: RunningApi;
  const operateToken = createToken('otto', 'operate');

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-acl-'));
    server = await startPrivateRedis({ aclFile: aclFileForTest(dir), auth: { username: 'bet-admin', password: password('admin') } });
    url = (role) => `redis://bet-${role}:${password(role)}@127.0.0.1:${server.port}`;
    admin = new Redis(url('admin'));
    apiRedis = new Redis(url('api'), { maxRetriesPerRequest: 0 });
    bookA = await startSimServer({ seed: 1, name: 'bookA', settleAfterMs: null });
    bookB = await startSimServer({ seed: 1, name: 'bookB', settleAfterMs: null });
    const config = parseConfig({ providers: { bookA: { url: bookA.url }, bookB: { url: bookB.url } }, ...fastTimings, settlementPollIntervalMs: 20 });
    worker = await startWorker({ config, redisUrl: url('worker'), providers: providersFromConfig(config), log: pino({ level: 'silent' }) });
    api = await startApi({ config: parseApiConfig({ tokens: [operateToken.entry], pnlProjectionIntervalMs: 0 }), redisUrl: url('api'), log: pino({ level: 'silent' }), listen: false });
  });
  after(async () => {
    await api.close();
    await worker.close();
    await closeProviders(worker.deps.providers as Map<string, never>);
    await bookA.close();
    await bookB.close();
    apiRedis.disconnect();
    admin.disconnect();
    await server.stop();
  });

  const cli = async (args: string[]) => run(process.execPath, ['bin/bet-executor.mjs', ...args], { env: { ...process.env, REDIS_URL: url('operator') } });
  const waitForEvent = async (arbId: string, type: string) => {
    for (let i = 0; i < 1_000; i++) {
      const found = (await readStream(admin, eventsStream)).find((e) => e.data.arbId === arbId && e.type === type);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${type} for ${arbId}`);
  };
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, token = operateToken.token) => {
    const res = await api.app.inject({ method, url: path, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };

  it('lets the worker run pairs to settlement, the CLI enqueue and switch, and the API read and write, with nothing denied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-acl-pairs-'));
    const good = makePair();
    const exposed = makePair();
    bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: String((exposed.hedgeBet as { accountId: string }).accountId) }, count: 100 });
    writeFileSync(join(dir, 'pairs.json'), JSON.stringify([good, exposed]));
    await cli(['enqueue', join(dir, 'pairs.json')]);
    await waitForEvent(good.arbId, 'arb_executed');
    await waitForEvent(exposed.arbId, 'exposure_alert');
    bookA.bookmaker.settle(`be1.${good.arbId}.p1`, 'won');
    bookB.bookmaker.settle(`be1.${good.arbId}.h1`, 'lost');
    await waitForEvent(good.arbId, 'arb_settled');

    assert.match((await cli(['exposures', 'list'])).stdout, /1 open exposure/);
    await cli(['kill', 'set', '--provider', 'bookA', '--reason', 'acl test', '--by', 'olga']);
    await cli(['kill', 'clear', '--provider', 'bookA', '--reason', 'acl test over', '--by', 'olga']);

    const readyAnswer = await call('GET', '/ready');
    assert.equal(readyAnswer.status, 200, JSON.stringify({ body: readyAnswer.body, denied: await admin.call('ACL', 'LOG') }));
    assert.equal(((await call('GET', '/api/v1/pairs')).body.items as unknown[]).length, 2);
    assert.equal((await call('GET', `/api/v1/pairs/${good.arbId}`)).status, 200);
    for (const path of ['/api/v1/exposures/open', '/api/v1/exposures/resolved', '/api/v1/kill-switches', '/api/v1/providers', '/api/v1/pnl', '/api/v1/alerts/deliveries', '/api/v1/alerts/dead', `/api/v1/accounts/wl1/bookA/${String((good.positiveBet as { accountId: string }).accountId)}`]) {
      assert.equal((await call('GET', path)).status, 200, path);
    }
    assert.equal((await call('PUT', '/api/v1/kill-switches/global', { reason: 'acl' })).status, 200);
    assert.equal((await call('DELETE', '/api/v1/kill-switches/global', { reason: 'acl over' })).status, 200);
    assert.equal((await call('POST', `/api/v1/exposures/${exposed.arbId}/resolve`, { note: 'checked' })).status, 200);
    assert.equal((await call('GET', '/api/v1/pairs', undefined, 'bet_wrong')).status, 401);
    while ((await api.projectPnl()) !== 0);
    assert.equal(((await call('GET', '/api/v1/pnl')).body.days as unknown[]).length, 1);

    const denied = await admin.call('ACL', 'LOG') as unknown[];
    assert.deepEqual(denied, [], `commands denied: ${JSON.stringify(denied)}`);
  });

  it('refuses the API user anything past what the API needs', async () => {
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['FLUSHALL', () => apiRedis.flushall()],
      ['FLUSHDB', () => apiRedis.flushdb()],
      ['CONFIG SET', () => apiRedis.config('SET', 'maxmemory', '1')],
      ['KEYS', () => apiRedis.keys('*')],
      ['XTRIM the audit stream', () => apiRedis.xtrim('bet-executor:audit', 'MAXLEN', 0)],
      ['XDEL on the audit stream', () => apiRedis.xdel('bet-executor:audit', '0-1')],
      ['LPUSH to the queue', () => apiRedis.lpush('bull:bet-pairs:wait', 'x')],
      ['DEL a queue key', () => apiRedis.del('bull:bet-pairs:meta')],
      ['writing a journal', () => apiRedis.hset('be:pair:arb-x', 'state', 'settled')],
      ['removing a cooldown', () => apiRedis.del('cooldown:wl1:bookA:acc-1')],
      ['a lease', () => apiRedis.set('lock:arb:arb-x', 'mine')],
      ['a script writing the queue', () => apiRedis.eval("return redis.call('LPUSH', KEYS[1], 'x')", 1, 'bull:bet-pairs:wait')],
      ['SHUTDOWN', () => apiRedis.call('SHUTDOWN', 'NOSAVE')],
      ['ACL SETUSER', () => apiRedis.call('ACL', 'SETUSER', 'bet-api', '+@all')],
    ];
    for (const [what, attempt] of attempts) {
      await assert.rejects(attempt(), /NOPERM|no permissions/, what);
    }
    assert.equal(await admin.llen('bull:bet-pairs:wait'), 0);
  });

  it('refuses the worker and the operator users the dangerous commands and other keys', async () => {
    for (const role of ['worker', 'operator'] as const) {
      const client = new Redis(url(role), { maxRetriesPerRequest: 0 });
      try {
        for (const attempt of [() => client.flushall(), () => client.config('SET', 'maxmemory', '1'), () => client.keys('*'), () => client.set('someone-else:key', '1')]) {
          await assert.rejects(attempt(), /NOPERM|no permissions/, role);
        }
      } finally {
        client.disconnect();
      }
    }
    const operator = new Redis(url('operator'), { maxRetriesPerRequest: 0 });
    try {
      await assert.rejects(operator.hset('be:pair:arb-x', 'state', 'x'), /NOPERM/);
      await assert.rejects(operator.del('cooldown:wl1:bookA:acc-1'), /NOPERM/);
      await assert.rejects(operator.xtrim('bet-executor:audit', 'MAXLEN', 0), /NOPERM/);
    } finally {
      operator.disconnect();
    }
  });
});
