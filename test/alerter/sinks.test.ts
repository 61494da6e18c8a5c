// The four sinks against one real local receiver: each request in its service's format, secrets kept out of every record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from '../../src/alerter/receiver.js';
import { alertDeadList, alertDeliveriesStream } from '../../src/store/keys.js';
import { createAlerterRig, fastAlerterConfig, readStream, eventsStream, secretEnv, waitFor, webhookSink, type AlerterRig } from './support.js';

const token = secretEnv.TG_TOKEN as string;

function bodyOf<T>(r: ReceivedRequest): T {
  return r.body as T;
}

async function cli(redisUrl: string, ...args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['bin/bet-executor.mjs', ...args], { env: { ...process.env, REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout };
}

describe('sinks of every kind at once', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  beforeEach(async () => {
    rig = await createAlerterRig();
  });
  afterEach(async () => {
    await rig.close();
    await receiver.close();
  });

  it('sends Slack, Telegram (after its 429 retry_after), Alertmanager and the webhook the same alerts, each in its format', async () => {
    let telegramCalls = 0;
    receiver = await startAlertReceiver((request) => {
      if (request.path.startsWith('/bot') && ++telegramCalls === 1) {
        return { status: 429, body: JSON.stringify({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }) };
      }
      return { status: 200, body: request.path.startsWith('/bot') ? '{"ok":true,"result":{}}' : 'ok' };
    });
    const env = { ...secretEnv, SLACK_URL: `${receiver.url}/services/T000/B000/XXXX` };
    await rig.start(fastAlerterConfig({
      hook: webhookSink(`${receiver.url}/hook`),
      slack: { type: 'slack', webhookUrl: { env: 'SLACK_URL' } },
      telegram: { type: 'telegram', botToken: { env: 'TG_TOKEN' }, chatId: -1001234567890, baseUrl: receiver.url },
      am: { type: 'alertmanager', url: `${receiver.url}/am/`, bearerToken: { env: 'AM_TOKEN' } },
    }), env);
    // The kill switch is set and cleared by the CLI, which writes the events the alerter turns into alerts.
    assert.equal((await cli(rig.redisUrl, 'kill', 'set', '--provider', 'bookA', '--reason', 'bookmaker maintenance')).code, 0);
    const exposureId = await rig.exposure('arb-all-sinks', 'positive_in_doubt');
    assert.equal((await cli(rig.redisUrl, 'kill', 'clear', '--provider', 'bookA', '--reason', 'maintenance over')).code, 0);
    await waitFor('three alerts on four sinks', async () => receiver.delivered().size === 3 && new Set(receiver.requests.filter((r) => r.answeredStatus === 200).map((r) => `${r.path}|${r.alertKey}`)).size === 12 && (await rig.pendingCount()) === 0);

    const events = await readStream(rig.redis, eventsStream);
    assert.deepEqual(events.map((e) => e.type), ['kill_switch_set', 'exposure_alert', 'kill_switch_cleared']);
    assert.equal(await rig.redis.exists('be:kill:provider:bookA'), 0, 'cleared');
    const exposureKey = `exposure_alert@${exposureId}`;

    const slack = receiver.requests.filter((r) => r.path === '/services/T000/B000/XXXX');
    assert.equal(slack.length, 3);
    const slackText = bodyOf<{ text: string }>(slack.find((r) => r.alertKey === exposureKey) as ReceivedRequest).text;
    assert.match(slackText, /^\[CRITICAL\] EXPOSURE: positive_in_doubt on arb arb-all-sinks/);
    assert.match(slackText, new RegExp(`alert key ${exposureKey}`));

    const telegram = receiver.requests.filter((r) => r.path === `/bot${token}/sendMessage`);
    assert.equal(telegram.length, 4, 'three alerts, one of them twice (the 429)');
    const [rateLimited, retried] = telegram.filter((r) => r.alertKey === telegram[0]?.alertKey) as [ReceivedRequest, ReceivedRequest];
    assert.ok(retried.atMs - rateLimited.atMs >= 950, `retry_after 1 s honoured (${retried.atMs - rateLimited.atMs} ms)`);
    const tgBody = bodyOf<{ chat_id: number; text: string; disable_web_page_preview: boolean }>(telegram.find((r) => r.alertKey === exposureKey) as ReceivedRequest);
    assert.equal(tgBody.chat_id, -1001234567890);
    assert.match(tgBody.text, /EXPOSURE: positive_in_doubt/);

    const am = receiver.requests.filter((r) => r.path === '/am/api/v2/alerts');
    assert.equal(am.length, 3);
    for (const r of am) assert.equal(r.headers.authorization, 'Bearer am-bearer-token');
    type AmAlert = { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt?: string };
    const amAlerts = am.map((r) => bodyOf<AmAlert[]>(r)).map((list) => { assert.equal(list.length, 1); return list[0] as AmAlert; });
    const exposure = amAlerts.find((a) => a.annotations.alertKey === exposureKey) as AmAlert;
    assert.deepEqual(exposure.labels, { alertname: 'BetExecutorExposure', severity: 'critical', arbId: 'arb-all-sinks', betPairId: 'bp-arb-all-sinks', reason: 'positive_in_doubt', whitelabel: 'wl1', service: 'bet-executor' });
    assert.equal(exposure.endsAt, undefined, 'firing');
    const [set, cleared] = amAlerts.filter((a) => a.labels.alertname === 'BetExecutorKillSwitch') as [AmAlert, AmAlert];
    assert.deepEqual(set.labels, cleared.labels, 'the clear resolves the same Alertmanager alert');
    assert.equal(set.labels.killSwitch, 'be:kill:provider:bookA');
    assert.equal(set.endsAt, undefined);
    assert.ok(cleared.endsAt, 'the cleared switch ends the alert');

    const hook = receiver.requests.filter((r) => r.path === '/hook');
    const setHook = hook.find((r) => bodyOf<{ eventType: string }>(r).eventType === 'kill_switch_set') as ReceivedRequest;
    assert.match(bodyOf<{ text: string }>(setHook).text, /reason: bookmaker maintenance/);
    assert.equal(bodyOf<{ status: string }>(hook.find((r) => bodyOf<{ eventType: string }>(r).eventType === 'kill_switch_cleared') as ReceivedRequest).status, 'resolved');
  });

  it('keeps a bot token out of the deliveries stream and the dead list, even when the receiver echoes it', async () => {
    receiver = await startAlertReceiver((request) => ({ status: 403, body: `forbidden: ${request.path}` }));
    await rig.start(fastAlerterConfig({ telegram: { type: 'telegram', botToken: { env: 'TG_TOKEN' }, chatId: '@ops_channel', baseUrl: receiver.url } }));
    await rig.exposure('arb-secret');
    await waitFor('dead-lettered', async () => (await rig.dead()).length === 1 && (await rig.pendingCount()) === 0);
    assert.ok(receiver.requests[0]?.path.includes(token), 'the receiver did see the token in the path');
    const everything = JSON.stringify([await rig.redis.xrange(alertDeliveriesStream, '-', '+'), await rig.redis.lrange(alertDeadList, 0, -1), await rig.redis.xrange(eventsStream, '-', '+')]);
    assert.ok(!everything.includes(token), 'no token in any record');
    assert.ok(!everything.includes('test-token_x'));
    assert.match(JSON.stringify(await rig.dead()), /forbidden: \/bot\*\*\*\/sendMessage/);
  });
});
