// Config and CLI refusals a hostile operator or a typo meet: exit 2 with the message, never exit 1 with a stack trace.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig } from '../../src/config.js';
import { freshRedisUrl } from '../support/redis.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'be-hardening-cli-'));
let files = 0;

async function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/bet-executor.mjs', ...args], { env: { ...process.env, ...env }, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string; killed?: boolean };
    if (e.killed) throw new Error(`bet-executor ${args.join(' ')} did not exit within ${timeoutMs} ms`);
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function file(content: unknown): string {
  const path = join(dir, `f${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const bookA = { url: 'http://127.0.0.1:1' };

function assertRefused(r: { code: number; stderr: string }, ...messages: RegExp[]): void {
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  for (const m of messages) assert.match(r.stderr, m);
}

describe('worker config refusals', () => {
  it('refuses providers: {} (no bookmaker: every pair would be rejected)', async () => {
    assertRefused(await cli(['worker', '--config', file({ providers: {} })]), /providers: at least one provider/);
  });

  it('refuses a provider named __proto__ (and other Object.prototype names)', async () => {
    // Written as text: JSON.parse makes "__proto__" an own key, as a config file would.
    assertRefused(await cli(['worker', '--config', file('{"providers":{"bookA":{"url":"http://127.0.0.1:1"},"__proto__":{"url":"http://127.0.0.1:2"}}}')]), /providers.*__proto__/);
    assert.throws(() => parseConfig(JSON.parse('{"providers":{"constructor":{"url":"http://127.0.0.1:1"}}}')), /constructor/);
    assert.throws(() => parseConfig(JSON.parse('{"providers":{"bookA":{"url":"http://127.0.0.1:1","credentials":{"env":"K"},"accounts":{"__proto__":{"credentials":{"env":"A"}}}}}}')), /__proto__/);
  });

  it('refuses queueName equal to settlementQueueName', async () => {
    assertRefused(await cli(['worker', '--config', file({ providers: { bookA }, queueName: 'q1', settlementQueueName: 'q1' })]), /queueName \(q1\) = settlementQueueName/);
  });

  for (const url of ['ftp://127.0.0.1/x', 'javascript:alert(1)', 'file:///etc/passwd']) {
    it(`refuses the provider URL ${url} with exit 2`, async () => {
      assertRefused(await cli(['worker', '--config', file({ providers: { bookA: { url } } })]), /providers\.bookA\.url: .*http/);
    });
  }

  it('refuses a ":" in a queue name with exit 2', async () => {
    assertRefused(await cli(['worker', '--config', file({ providers: { bookA }, queueName: 'bet:pairs' })]), /queueName/);
    assertRefused(await cli(['worker', '--config', file({ providers: { bookA }, settlementQueueName: 'a:b' })]), /settlementQueueName/);
  });

  it('reports limit contradictions together with field errors, in one report', async () => {
    const r = await cli(['worker', '--config', file({ providers: { bookA }, cooldownMs: -1, lockTtlMs: 1000, providerTimeoutMs: 5000 })]);
    assertRefused(r, /cooldownMs/, /lockTtlMs \(1000\) < 3 × provider timeout \(5000\)/);
  });
});

describe('enqueue refusals', () => {
  it('refuses data that is not an object (42, null, a string), naming the item', async () => {
    const url = await freshRedisUrl();
    for (const data of ['42', [{ arbId: 'a' }, 42], '"x"', 'null']) {
      const r = await cli(['enqueue', file(data)], { REDIS_URL: url });
      assertRefused(r, /is not a JSON object/);
    }
    const redis = new Redis(url);
    assert.deepEqual(await redis.keys('bull:*'), [], 'nothing queued');
    redis.disconnect();
  });

  it('refuses a queue other than the contract queue or the configured one', async () => {
    const url = await freshRedisUrl();
    assertRefused(await cli(['enqueue', file({ arbId: 'a' }), '--queue', 'bet-pair'], { REDIS_URL: url }), /--queue \(bet-pair\)/);
    const config = file({ providers: { bookA }, queueName: 'bet-pairs-eu' });
    const ok = await cli(['enqueue', file({ arbId: 'a' }), '--config', config], { REDIS_URL: url });
    assert.equal(ok.code, 0, ok.stderr);
    const queue = new Queue('bet-pairs-eu', { connection: { url } });
    assert.equal(await queue.count(), 1);
    await queue.close();
  });

  it('does not hang when Redis is unreachable: exits non-zero with a message', async () => {
    // A port that accepts connections and never answers (a black hole), and one that refuses them.
    const silent = createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    try {
      for (const url of [`redis://127.0.0.1:${port}`, 'redis://127.0.0.1:1']) {
        const r = await cli(['enqueue', file({ arbId: 'a' }), '--connect-timeout-ms', '500'], { REDIS_URL: url });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /cannot reach Redis/);
        assert.doesNotMatch(r.stderr, /^\s+at /m);
      }
    } finally {
      silent.close();
    }
  });
});

describe('exposures list into a closed pipe', () => {
  it('exits quietly on EPIPE (`exposures list | head`)', async () => {
    const url = await freshRedisUrl();
    const child = spawn(process.execPath, ['bin/bet-executor.mjs', 'exposures', 'list'], { env: { ...process.env, REDIS_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the command writes, as `head` does after its lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
});
