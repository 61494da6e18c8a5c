// `bet-executor alerter` as a real process: SIGKILLed mid-delivery loses no alert; a bad config exits 2 with the reason.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startAlertReceiver, type AlertReceiver } from '../../src/alerter/receiver.js';
import { createAlerterRig, hookSecret, waitFor, webhookSink, type AlerterRig } from './support.js';

function configFile(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bet-executor-alerter-test-')), 'alerter.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function spawnAlerter(file: string, env: Record<string, string | undefined>, stderr: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  return spawn(process.execPath, ['bin/bet-executor.mjs', 'alerter', '--config', file], {
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : stderr],
  });
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('the alerter process', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    rig = await createAlerterRig();
  });
  afterEach(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rig.close();
    await receiver?.close();
  });

  it('loses no exposure alert when SIGKILLed mid-delivery: another process claims and delivers them under the same keys', async () => {
    // Every first answer comes late, so the first process dies with requests in flight and answers unread.
    receiver = await startAlertReceiver((_request, times) => (times === 1 ? { status: 200, delayMs: 1_500 } : { status: 200 }));
    const file = configFile({
      sinks: { hook: webhookSink(receiver.url) },
      startFrom: 'all',
      readBlockMs: 50,
      claimIdleMs: 600,
      claimIntervalMs: 100,
      delivery: { attemptsMax: 5, backoffBaseMs: 20, backoffMsMax: 200, requestTimeoutMs: 500 },
      deadman: { workerHeartbeatStaleMs: null, exposureUnresolvedMs: null },
    });
    const env = { REDIS_URL: rig.redisUrl, HOOK_SECRET: hookSecret };
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await rig.exposure(`arb-k${i}`));
    const doomed = spawnAlerter(file, env);
    children.push(doomed);
    await waitFor('the first process has requests in flight', () => receiver.requests.length >= 5, 20_000);
    doomed.kill('SIGKILL');
    await once(doomed, 'exit');
    const answeredBeforeKill = receiver.delivered().size;
    children.push(spawnAlerter(file, env));
    await waitFor('every alert delivered and acknowledged', async () => receiver.delivered().size === 20 && (await rig.pendingCount()) === 0, 30_000);
    const expected = new Set(ids.map((id) => `exposure_alert@${id}`));
    assert.deepEqual(receiver.delivered(), expected, 'every exposure alert delivered');
    const repeated = [...expected].filter((key) => receiver.requests.filter((r) => r.alertKey === key).length > 1);
    assert.ok(repeated.length > 0, `some alerts were sent again after the kill (answered before it: ${answeredBeforeKill})`);
    for (const r of receiver.requests) {
      const body = r.body as { alertKey: string; eventId: string };
      assert.equal(body.alertKey, r.alertKey, 'a repeat carries the key of its first send');
      assert.equal(`exposure_alert@${body.eventId}`, r.alertKey);
    }
    const consumers = new Set((await rig.deliveries()).filter((d) => d.result === 'delivered').map((d) => d.consumer));
    assert.equal(consumers.size, 1, 'the survivor recorded the deliveries (the killed one never read its answers)');
  });

  it('exits 2 naming the problem: an inline secret, a missing secret variable, no REDIS_URL', async () => {
    receiver = await startAlertReceiver();
    const inline = spawnAlerter(configFile({ sinks: { hook: { type: 'webhook', url: receiver.url, secret: 'hunter2' } } }), { REDIS_URL: rig.redisUrl }, 'pipe');
    const inlineExit = await exitOf(inline);
    assert.equal(inlineExit.code, 2);
    assert.match(inlineExit.stderr, /sinks\.hook\.secret: a secret is referenced, never written in the config/);
    assert.ok(!inlineExit.stderr.includes('hunter2'), 'the inline value is not echoed');

    const missing = spawnAlerter(configFile({ sinks: { hook: webhookSink(receiver.url) } }), { REDIS_URL: rig.redisUrl, HOOK_SECRET: undefined }, 'pipe');
    const missingExit = await exitOf(missing);
    assert.equal(missingExit.code, 2);
    assert.match(missingExit.stderr, /sinks\.hook\.secret: environment variable HOOK_SECRET is not set/);

    const noRedis = spawnAlerter(configFile({ sinks: { hook: webhookSink(receiver.url) } }), { REDIS_URL: undefined, HOOK_SECRET: hookSecret }, 'pipe');
    const noRedisExit = await exitOf(noRedis);
    assert.equal(noRedisExit.code, 2);
    assert.match(noRedisExit.stderr, /alerter needs REDIS_URL/);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    receiver = await startAlertReceiver();
    const child = spawnAlerter(configFile({ sinks: { hook: webhookSink(receiver.url) }, readBlockMs: 50, deadman: { workerHeartbeatStaleMs: null, exposureUnresolvedMs: null } }), { REDIS_URL: rig.redisUrl, HOOK_SECRET: hookSecret });
    children.push(child);
    await waitFor('the consumer group exists', async () => (await rig.redis.exists('bet-executor:events')) === 1, 20_000);
    await rig.exposure('arb-term');
    await waitFor('delivered', () => receiver.delivered().size === 1, 20_000);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
