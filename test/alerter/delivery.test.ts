// Delivery through a real local HTTP receiver that fails, times out and rate-limits: every alert arrives, repeats keep their key.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from '../../src/alerter/receiver.js';
import { verifyWebhookSignature, webhookHeaders } from '../../src/alerter/sinks.js';
import { createAlerterRig, fastAlerterConfig, hookSecret, readStream, eventsStream, waitFor, webhookSink, type AlerterRig } from './support.js';

function byKey(requests: ReceivedRequest[]): Map<string, ReceivedRequest[]> {
  const map = new Map<string, ReceivedRequest[]>();
  for (const r of requests) map.set(r.alertKey ?? '', [...(map.get(r.alertKey ?? '') ?? []), r]);
  return map;
}

describe('the alerter delivering to a webhook that fails (500), times out and rate-limits (429)', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  beforeEach(async () => {
    rig = await createAlerterRig();
  });
  afterEach(async () => {
    await rig.close();
    await receiver.close();
  });

  it('delivers every exposure alert, each repeat with the same key, a valid signature, and Retry-After honoured', async () => {
    const behaviour = new Map<string, number>();
    receiver = await startAlertReceiver((request, times) => {
      const kind = behaviour.get(request.alertKey ?? '') ?? behaviour.size % 4;
      behaviour.set(request.alertKey ?? '', kind);
      if (times > 1 || kind === 0) return { status: 200 };
      if (kind === 1) return { status: 500, body: 'boom' };
      if (kind === 2) return 'hang';
      return { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"slow down"}' };
    });
    await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await rig.exposure(`arb-d${i}`));
    const expectedKeys = new Set(ids.map((id) => `exposure_alert@${id}`));
    await waitFor('every alert delivered and acknowledged', async () => receiver.delivered().size === 12 && (await rig.pendingCount()) === 0);
    assert.deepEqual(receiver.delivered(), expectedKeys);
    const groups = byKey(receiver.requests);
    for (const [key, requests] of groups) {
      const kind = behaviour.get(key);
      const [first] = requests as [ReceivedRequest];
      // The first request met its scripted fault; the alerter tried again until one was answered 2xx.
      assert.equal(first.answeredStatus, [200, 500, undefined, 429][kind ?? 0], `${key} (behaviour ${String(kind)}): first answer`);
      assert.ok(requests.length >= (kind === 0 ? 1 : 2), `${key} (behaviour ${String(kind)}): ${requests.length} requests`);
      for (const r of requests) {
        const body = r.body as { alertKey: string; eventId: string; eventType: string; attempt: number; data: { arbId: string } };
        assert.equal(body.alertKey, key, 'the body carries the same key as the header');
        assert.equal(r.headers[webhookHeaders.alertKey], key);
        assert.equal(`exposure_alert@${body.eventId}`, key);
        assert.equal(body.eventType, 'exposure_alert');
        assert.ok(verifyWebhookSignature(hookSecret, r.headers[webhookHeaders.timestamp] as string, r.headers[webhookHeaders.signature] as string, r.bodyText), 'signature verifies');
        assert.ok(!verifyWebhookSignature('another-secret', r.headers[webhookHeaders.timestamp] as string, r.headers[webhookHeaders.signature] as string, r.bodyText));
      }
      assert.deepEqual(requests.map((r) => (r.body as { attempt: number }).attempt), requests.map((_, i) => i + 1));
      if (kind === 3) {
        const [first, second] = requests as [ReceivedRequest, ReceivedRequest];
        assert.ok(second.atMs - first.atMs >= 950, `Retry-After: 1 honoured (${second.atMs - first.atMs} ms)`);
      }
    }
    const deliveries = await rig.deliveries();
    for (const key of expectedKeys) {
      const rows = deliveries.filter((d) => d.alertKey === key);
      assert.equal(rows.filter((d) => d.result === 'delivered').length, 1, `${key}: one delivered record`);
      assert.equal(rows.length, groups.get(key)?.length, `${key}: one record per attempt`);
      for (const row of rows) assert.deepEqual(Object.keys(row).sort(), ['alertKey', 'atMs', 'attempt', 'consumer', 'error', 'eventId', 'eventType', 'httpStatus', 'result', 'sink'].sort());
    }
    const failed = deliveries.filter((d) => d.result === 'failed');
    assert.ok(failed.some((d) => d.httpStatus === '500' && String(d.error).includes('boom')));
    assert.ok(failed.some((d) => d.httpStatus === '' && d.error === 'timeout'));
    assert.ok(failed.some((d) => d.httpStatus === '429'));
  });

  it('does not send again to a sink that took the alert while another sink still retries', async () => {
    let flakyCalls = 0;
    receiver = await startAlertReceiver((request) => (request.path === '/flaky' && ++flakyCalls <= 3 ? { status: 503 } : { status: 204 }));
    await rig.start(fastAlerterConfig({ steady: webhookSink(`${receiver.url}/steady`), flaky: webhookSink(`${receiver.url}/flaky`) }));
    const id = await rig.exposure('arb-two-sinks');
    await waitFor('both sinks delivered', async () => (await rig.pendingCount()) === 0 && receiver.requests.filter((r) => r.path === '/flaky').length === 4);
    assert.equal(receiver.requests.filter((r) => r.path === '/steady').length, 1, 'the steady sink got the alert once');
    assert.ok(receiver.requests.every((r) => r.alertKey === `exposure_alert@${id}`));
  });

  it('acknowledges events that are not alerts without sending anything', async () => {
    receiver = await startAlertReceiver();
    await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }));
    for (const type of ['arb_executed', 'bet_accepted', 'arb_settled', 'exposure_updated']) await rig.event(type, { arbId: 'arb-x' });
    await waitFor('read and acknowledged', async () => {
      const info = await rig.redis.xinfo('GROUPS', eventsStream) as unknown[][];
      const group = info[0] as unknown[];
      return group[group.indexOf('last-delivered-id') + 1] !== '0-0' && (await rig.pendingCount()) === 0;
    });
    await rig.exposure('arb-after');
    await waitFor('the next alert delivered', () => receiver.delivered().size === 1);
    assert.equal(receiver.requests.length, 1, 'only the exposure alert was sent');
  });
});

describe('an alert that cannot be delivered', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  beforeEach(async () => {
    rig = await createAlerterRig();
  });
  afterEach(async () => {
    await rig.close();
    await receiver.close();
  });

  it('is dead-lettered after attemptsMax failures, recorded, and alerted to the other sinks', async () => {
    receiver = await startAlertReceiver((request) => (request.path === '/broken' ? { status: 500, body: 'down for good' } : { status: 200 }));
    const config = fastAlerterConfig({ broken: webhookSink(`${receiver.url}/broken`), good: webhookSink(`${receiver.url}/good`) }, { delivery: { attemptsMax: 3, backoffBaseMs: 10, backoffMsMax: 50 } });
    await rig.start(config);
    const id = await rig.exposure('arb-dead');
    const key = `exposure_alert@${id}`;
    await waitFor('dead-letter alert delivered to the good sink', async () =>
      (await rig.pendingCount()) === 0 && receiver.requests.some((r) => r.path === '/good' && (r.body as { eventType: string }).eventType === 'alert_dead_lettered'));
    assert.equal(receiver.requests.filter((r) => r.path === '/broken').length, 3, 'attemptsMax attempts, no more');
    assert.equal(receiver.requests.filter((r) => r.path === '/broken' && r.alertKey !== key).length, 0, 'the dead-letter alert skips the sink that failed');
    const [dead, ...more] = await rig.dead();
    assert.equal(more.length, 0);
    assert.equal(dead?.alertKey, key);
    assert.equal(dead?.sink, 'broken');
    assert.equal(dead?.attempts, 3);
    assert.equal(dead?.httpStatus, 500);
    assert.match(String(dead?.error), /down for good/);
    assert.equal((dead?.data as { arbId: string }).arbId, 'arb-dead');
    const rows = (await rig.deliveries()).filter((d) => d.alertKey === key && d.sink === 'broken');
    assert.deepEqual(rows.map((d) => d.result), ['failed', 'failed', 'dead']);
    const deadEvents = (await readStream(rig.redis, eventsStream)).filter((e) => e.type === 'alert_dead_lettered');
    assert.equal(deadEvents.length, 1, 'raised once');
    assert.equal(deadEvents[0]?.data.alertKey, key);
    const notice = receiver.requests.find((r) => (r.body as { eventType: string }).eventType === 'alert_dead_lettered');
    assert.match((notice?.body as { title: string }).title, /NOT delivered to broken/);
    assert.equal(receiver.requests.filter((r) => r.path === '/good' && r.alertKey === key).length, 1, 'the good sink had the alert itself once');
  });

  it('is dead-lettered at once when the receiver refuses it (4xx other than 408/429)', async () => {
    receiver = await startAlertReceiver(() => ({ status: 401, body: '{"error":"bad token"}' }));
    await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }));
    await rig.exposure('arb-refused');
    await waitFor('acknowledged', async () => (await rig.dead()).length === 1 && (await rig.pendingCount()) === 0);
    assert.equal(receiver.requests.filter((r) => (r.body as { eventType: string }).eventType === 'exposure_alert').length, 1, 'one attempt only');
    assert.equal((await rig.dead())[0]?.attempts, 1);
  });

  it('raises no further alert when the dead-letter alert itself has no sink left', async () => {
    receiver = await startAlertReceiver(() => ({ status: 500 }));
    await rig.start(fastAlerterConfig({ only: webhookSink(receiver.url) }, { delivery: { attemptsMax: 2, backoffBaseMs: 10, backoffMsMax: 20 } }));
    await rig.exposure('arb-lonely');
    await waitFor('everything acknowledged', async () => {
      const events = await readStream(rig.redis, eventsStream);
      return events.some((e) => e.type === 'alert_dead_lettered') && (await rig.pendingCount()) === 0;
    });
    await new Promise((r) => setTimeout(r, 200));
    const events = await readStream(rig.redis, eventsStream);
    assert.equal(events.filter((e) => e.type === 'alert_dead_lettered').length, 1, 'no chain of dead-letter alerts');
    assert.equal(receiver.requests.length, 2, 'the exposure alert twice, the dead-letter alert to no sink');
  });
});
