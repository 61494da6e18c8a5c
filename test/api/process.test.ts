// The API as an operator runs it: `bet-executor api` over a real socket, `token create`, the kill commands, plugins.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createToken, sha256Hex } from '../../src/api/auth.js';
import { parseApiConfig } from '../../src/api/config.js';
import { startApi } from '../../src/app/api.js';
import { readStream } from '../../src/store/store.js';
import { freshRedisUrl } from '../support/redis.js';

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const fullEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/bet-executor.mjs', ...args], { env: fullEnv as NodeJS.ProcessEnv }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function writeJson(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'be-api-')), 'config.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('bet-executor token create', () => {
  it('prints a new token once and the config entry holding only its digest', async () => {
    const r = await cli(['token', 'create', '--name', 'alice', '--scope', 'operate']);
    assert.equal(r.code, 0, r.stderr);
    const token = /token \(shown once[^)]*\): (\S+)/.exec(r.stdout)?.[1] ?? '';
    const entry = JSON.parse(/config entry[^:]*: (.+)$/m.exec(r.stdout)?.[1] ?? '{}') as { name: string; scope: string; sha256: string };
    assert.deepEqual(entry, { name: 'alice', scope: 'operate', sha256: sha256Hex(token) });
    assert.equal(parseApiConfig({ tokens: [entry] }).tokens[0]?.name, 'alice');
  });

  it('refuses a bad name or scope with exit 2', async () => {
    for (const args of [['--name', 'al ice', '--scope', 'read'], ['--name', 'alice', '--scope', 'root'], ['--name', '', '--scope', 'read']]) {
      const r = await cli(['token', 'create', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});

describe('bet-executor api', () => {
  it('refuses to start without REDIS_URL, or with a bad config (exit 2, the field named)', async () => {
    const good = writeJson({ tokens: [createToken('a', 'read').entry] });
    const noRedis = await cli(['api', '--config', good], { REDIS_URL: undefined });
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /needs REDIS_URL/);
    const bad = await cli(['api', '--config', writeJson({ tokens: [{ name: 'a', scope: 'read', sha256: 'plaintext-token' }], port: 70_000 })], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /tokens\.0\.sha256/);
    assert.match(bad.stderr, /port/);
  });

  it('serves over a real socket, audits a kill switch set with the token\'s name, and stops on SIGTERM', async () => {
    const url = await freshRedisUrl();
    const { token, entry } = createToken('ops-bot', 'operate');
    const config = writeJson({ tokens: [entry], port: 0, pnlProjectionIntervalMs: 50 });
    const child = spawn(process.execPath, ['bin/bet-executor.mjs', 'api', '--config', config], { env: { ...process.env, REDIS_URL: url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
      const base = /API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      assert.ok(base, line);
      assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok' });
      assert.equal((await fetch(`${base}/api/v1/pairs`)).status, 401);
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await fetch(`${base}/api/v1/pairs`, { headers: auth })).status, 200);
      const set = await fetch(`${base}/api/v1/kill-switches/provider:bookA`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'over the socket' }) });
      assert.equal(set.status, 200);
      const redis = new Redis(url);
      const audit = (await readStream(redis, 'bet-executor:audit')).filter((e) => e.type === 'kill_switch_set');
      redis.disconnect();
      assert.deepEqual(audit.map((e) => [e.data.scope, e.data.by, e.data.via, e.data.reason]), [['provider:bookA', 'ops-bot', 'api', 'over the socket']]);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('bet-executor kill (CLI)', () => {
  it('refuses an empty, missing, doubled or malformed scope with exit 2 and never engages the global switch', async () => {
    const url = await freshRedisUrl();
    const redis = new Redis(url);
    // Every other malformed scope is a case of killScopeFromFlags (rules.test.ts); these go through the process.
    const cases: string[][] = [['set', '--provider', ''], ['clear', '--provider', ''], ['set', '--account', ''], ['set'], ['clear'], ['set', '--global', '--provider', 'bookA'], ['set', '--global', '--reason', 'a\u202Eb']];
    const answers = await Promise.all(cases.map((args) => cli(['kill', ...args, ...(args.includes('--reason') ? [] : ['--reason', 'test'])], { REDIS_URL: url })));
    answers.forEach((r, i) => assert.equal(r.code, 2, `kill ${cases[i]?.join(' ')}: ${r.stderr}`));
    assert.deepEqual(await redis.keys('*'), []);
    redis.disconnect();
  });

  it('records --by and the reason on the audit stream and the events stream, and lists what is engaged', async () => {
    const url = await freshRedisUrl();
    const redis = new Redis(url);
    assert.equal((await cli(['kill', 'set', '--account', 'wl1:bookA:acc-1', '--reason', 'account flagged', '--by', 'olga'], { REDIS_URL: url })).code, 0);
    const listed = await cli(['kill', 'list'], { REDIS_URL: url });
    assert.match(listed.stdout, /1 kill switch\(es\) engaged/);
    assert.match(listed.stdout, /account:wl1:bookA:acc-1 {2}"account flagged" {2}by olga/);
    assert.equal((await cli(['kill', 'clear', '--account', 'wl1:bookA:acc-1', '--reason', 'cleared by risk', '--by', 'olga'], { REDIS_URL: url })).code, 0);
    const audit = await readStream(redis, 'bet-executor:audit');
    assert.deepEqual(audit.map((e) => [e.type, e.data.by, e.data.via, e.data.reason]), [
      ['kill_switch_set', 'olga', 'cli', 'account flagged'], ['kill_switch_cleared', 'olga', 'cli', 'cleared by risk'],
    ]);
    assert.deepEqual((await readStream(redis, 'bet-executor:events')).map((e) => e.type), ['kill_switch_set', 'kill_switch_cleared']);
    redis.disconnect();
  });
});

describe('the API\'s plugin registration point (where /metrics plugs in)', () => {
  const tokens = [createToken('a', 'read').entry];

  it('serves a plugin\'s route, lists it with the routes and documents it', async () => {
    const metrics: FastifyPluginAsync = async (app) => {
      app.get('/plugin-probe', { config: { access: { scope: 'public' } }, schema: { summary: 'a plugin\'s route', response: { 200: { type: 'string' } } } }, async () => '# metrics\n');
    };
    const api = await startApi({ config: parseApiConfig({ tokens, pnlProjectionIntervalMs: 0 }), redisUrl: await freshRedisUrl(), log: pino({ level: 'silent' }), plugins: [metrics], listen: false });
    try {
      assert.equal((await api.app.inject({ method: 'GET', url: '/plugin-probe' })).body, '# metrics\n');
      assert.ok(api.routes.some((r) => r.url === '/plugin-probe'));
      assert.ok((api.app.swagger() as { paths: Record<string, unknown> }).paths['/plugin-probe']);
    } finally {
      await api.close();
    }
  });

  it('refuses a route that does not declare who may call it (fail closed, never public by default)', async () => {
    const careless: FastifyPluginAsync = async (app) => {
      app.get('/oops', async () => 'data');
    };
    await assert.rejects(startApi({ config: parseApiConfig({ tokens, pnlProjectionIntervalMs: 0 }), redisUrl: await freshRedisUrl(), log: pino({ level: 'silent' }), plugins: [careless], listen: false }), /declares no access/);
  });
});
