// The command line as a user meets it: config errors, exposure review commands.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freshRedisUrl } from './support/redis.js';

const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/bet-executor.mjs', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('bet-executor worker --config', () => {
  it('refuses a bad config with exit 2 and names every bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ providers: { bookA: { url: 'not a url' } }, cooldownMs: -1, surprise: true }));
    const r = await cli(['worker', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /providers\.bookA\.url/);
    assert.match(r.stderr, /cooldownMs/);
    assert.match(r.stderr, /surprise/);
  });

  it('refuses limits that contradict each other, showing both values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ providers: { bookA: { url: 'http://127.0.0.1:1' } }, lockTtlMs: 1000, providerTimeoutMs: 5000 }));
    const r = await cli(['worker', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /lockTtlMs \(1000\) < 3 × provider timeout \(5000\)/);
  });
});

describe('bet-executor exposures', () => {
  it('lists open exposures and resolves one with a note', async () => {
    const url = await freshRedisUrl();
    const redis = new Redis(url);
    const id = 'arb-9';
    const exposureKey = 'exposure:wl1:bookA:bp-9';
    const record = { bet_pair_id: 'bp-9', arb_id: 'arb-9', whitelabel: 'wl1', positive_provider: 'bookA', exposure_reason: 'both_won_unexpected', actual_outcome: 'won_won', detected_at: '2026-11-24T00:00:00.000Z' };
    await redis.hset('be:review:open', id, JSON.stringify(record));
    await redis.set(exposureKey, JSON.stringify(record), 'PX', 60_000);
    await redis.sadd('be:review:pair:wl1:bookA:bp-9', id);
    const listed = await cli(['exposures', 'list'], { REDIS_URL: url });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /1 open exposure/);
    assert.match(listed.stdout, /both_won_unexpected/);
    const resolved = await cli(['exposures', 'resolve', id, '--note', 'checked with bookA', '--by', 'bob'], { REDIS_URL: url });
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(await redis.hlen('be:review:open'), 0);
    assert.equal(await redis.exists(exposureKey), 0);
    assert.equal(await redis.exists('be:review:pair:wl1:bookA:bp-9'), 0);
    assert.match((await redis.hget('be:review:resolved', id)) ?? '', /checked with bookA/);
    const again = await cli(['exposures', 'resolve', id, '--note', 'x'], { REDIS_URL: url });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no open exposure/);
    redis.disconnect();
  });
});

describe('bet-executor kill', () => {
  it('sets and clears the global, provider and account switches, on the audit trail', async () => {
    const url = await freshRedisUrl();
    const redis = new Redis(url);
    for (const [args, key] of [[['--global'], 'be:kill:global'], [['--provider', 'bookA'], 'be:kill:provider:bookA'], [['--account', 'wl1:bookA:acc-1'], 'be:kill:account:wl1:bookA:acc-1']] as const) {
      assert.equal((await cli(['kill', 'set', ...args, '--reason', 'incident 42'], { REDIS_URL: url })).code, 0);
      assert.equal(await redis.get(key), 'incident 42');
      assert.equal((await cli(['kill', 'clear', ...args, '--reason', 'incident 42 over'], { REDIS_URL: url })).code, 0);
      assert.equal(await redis.exists(key), 0);
    }
    assert.equal(await redis.xlen('bet-executor:audit'), 6);
    const bad = await cli(['kill', 'set', '--account', 'wl1:bookA', '--reason', 'x'], { REDIS_URL: url });
    assert.equal(bad.code, 2);
    redis.disconnect();
  });
});

describe('bet-executor enqueue', () => {
  it('adds every pair of a file to the bet-pairs queue (validation stays with the worker)', async () => {
    const url = await freshRedisUrl();
    const dir = mkdtempSync(join(tmpdir(), 'be-cli-'));
    const file = join(dir, 'pairs.json');
    writeFileSync(file, JSON.stringify([{ arbId: 'a-1' }, { arbId: 'a-2' }]));
    const r = await cli(['enqueue', file], { REDIS_URL: url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /enqueued 2 bet pair\(s\) on bet-pairs/);
    const redis = new Redis(url);
    assert.equal(await redis.llen('bull:bet-pairs:wait'), 2);
    redis.disconnect();
  });

  it('refuses to run without REDIS_URL', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/bet-executor.mjs', 'enqueue', 'x.json'], { env }, (error, _out, err) => resolve({ code: (error as { code?: number } | null)?.code ?? 0, stderr: err }));
    });
    assert.equal(code, 2);
    assert.match(stderr, /needs REDIS_URL/);
  });

  it('says its config warnings at start-up: a dead worker\'s pending bet outliving its account\'s hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-cli-warn-'));
    const file = join(dir, 'worker.json');
    writeFileSync(file, JSON.stringify({ providers: { bookA: { url: 'http://127.0.0.1:9' } }, cooldownMs: 30_000, queueName: 'cli-warn-pairs', settlementQueueName: 'cli-warn-settle' }));
    const child = spawn(process.execPath, ['bin/bet-executor.mjs', 'worker', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: await freshRedisUrl(), LOG_LEVEL: 'info' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      const deadline = Date.now() + 20_000;
      while (!out.includes('worker started')) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `worker did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const warnings = out.split('\n').filter((l) => l.includes('config warning')).map((l) => JSON.parse(l) as { level: number; key: string; value: string });
      const pending = warnings.find((w) => w.key === 'cooldownMs vs jobLockMs + stalledCheckMs, lockTtlMs');
      assert.ok(pending, `no pending-hold warning in: ${out}`);
      assert.equal(pending.level, 40);
      assert.match(pending.value, /hold 40250 ms, resume 45000 ms/);
      assert.ok(warnings.some((w) => w.key === 'cooldownMs'), 'the short cooldown is said too');
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });
});

describe('bet-executor sim', () => {
  it('serves the reference protocol on the given port until SIGTERM', async () => {
    const child = spawn(process.execPath, ['bin/bet-executor.mjs', 'sim', '--port', '0', '--seed', '3', '--name', 'bk'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const url = /listening on (\S+)/.exec(line)?.[1];
    assert.ok(url, line);
    const health = (await (await fetch(`${url}/_sim/health`)).json()) as { ok: boolean; name: string };
    assert.deepEqual(health, { ok: true, name: 'bk' });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
