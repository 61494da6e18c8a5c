// Entries a dead alerter left pending are claimed (XAUTOCLAIM); a live alerter's slow deliveries are not.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startAlertReceiver, type AlertReceiver } from '../../src/alerter/receiver.js';
import { createAlerterRig, eventsStream, fastAlerterConfig, waitFor, webhookSink, type AlerterRig } from './support.js';

const group = 'bet-executor-alerter';

describe('pending entries of another alerter', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  beforeEach(async () => {
    rig = await createAlerterRig();
  });
  afterEach(async () => {
    await rig.close();
    await receiver.close();
  });

  it('are claimed from a consumer that read them and died, and delivered', async () => {
    receiver = await startAlertReceiver();
    await rig.redis.xgroup('CREATE', eventsStream, group, '$', 'MKSTREAM');
    const ids = [await rig.exposure('arb-c1'), await rig.exposure('arb-c2'), await rig.exposure('arb-c3')];
    // A consumer reads them and is never heard of again (its process was killed before it acknowledged).
    await rig.redis.xreadgroup('GROUP', group, 'dead-consumer', 'COUNT', 10, 'STREAMS', eventsStream, '>');
    assert.equal(await rig.pendingCount(), 3);
    const alerter = await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }, { claimIdleMs: 600, delivery: { requestTimeoutMs: 500 } }));
    await waitFor('all three delivered', async () => receiver.delivered().size === 3 && (await rig.pendingCount()) === 0);
    assert.deepEqual(receiver.delivered(), new Set(ids.map((id) => `exposure_alert@${id}`)));
    const records = (await rig.deliveries()).filter((d) => d.result === 'delivered');
    assert.deepEqual(new Set(records.map((d) => d.consumer)), new Set([alerter.consumer]));
  });

  it('are left alone while their alerter is alive, even when it waits longer than claimIdleMs between attempts', async () => {
    let calls = 0;
    receiver = await startAlertReceiver(() => (++calls <= 2 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 }));
    // The first alerter takes the entry; only the second looks for abandoned entries (every 100 ms).
    const sink = { hook: webhookSink(receiver.url) };
    const first = await rig.start(fastAlerterConfig(sink, { claimIdleMs: 1_500, claimIntervalMs: 60_000, delivery: { requestTimeoutMs: 1_000 } }));
    const id = await rig.exposure('arb-slow');
    await waitFor('first attempt made', () => receiver.requests.length === 1);
    const second = await rig.start(fastAlerterConfig(sink, { claimIdleMs: 1_500, claimIntervalMs: 100, delivery: { requestTimeoutMs: 1_000 } }));
    await waitFor('delivered', async () => receiver.delivered().size === 1 && (await rig.pendingCount()) === 0);
    const attempts = (await rig.deliveries()).filter((d) => d.alertKey === `exposure_alert@${id}`);
    assert.deepEqual(attempts.map((d) => d.attempt), ['1', '2', '3'], 'one sequence of attempts, 2 s apart, no parallel one');
    assert.deepEqual(new Set(attempts.map((d) => d.consumer)), new Set([first.consumer]), `the first alerter did it all, not ${second.consumer}`);
    assert.equal(receiver.requests.length, 3);
  });

  it('are finished by the alerter that claims them without sending again to the sinks that took them', async () => {
    let flakyCalls = 0;
    receiver = await startAlertReceiver((r) => (r.path === '/flaky' && ++flakyCalls === 1 ? { status: 503, headers: { 'retry-after': '30' } } : { status: 200 }));
    const sinks = { steady: webhookSink(`${receiver.url}/steady`), flaky: webhookSink(`${receiver.url}/flaky`) };
    const timings = { claimIdleMs: 600, delivery: { requestTimeoutMs: 500, retryAfterMsMax: 60_000 } };
    const first = await rig.start(fastAlerterConfig(sinks, timings));
    const id = await rig.exposure('arb-half');
    await waitFor('steady took it, flaky asked for 30 s', () => receiver.requests.some((r) => r.path === '/steady' && r.answeredStatus === 200) && flakyCalls === 1);
    await first.close();
    assert.equal(await rig.pendingCount(), 1, 'a stopped alerter leaves its unfinished alert pending');
    const second = await rig.start(fastAlerterConfig(sinks, timings));
    await waitFor('finished by the second alerter', async () => (await rig.pendingCount()) === 0);
    assert.equal(receiver.requests.filter((r) => r.path === '/steady').length, 1, 'the steady sink got it once');
    assert.equal(receiver.requests.filter((r) => r.path === '/flaky').length, 2);
    const delivered = (await rig.deliveries()).filter((d) => d.alertKey === `exposure_alert@${id}` && d.result === 'delivered');
    assert.deepEqual(delivered.map((d) => `${d.sink} ${d.consumer} #${d.attempt}`), [`steady ${first.consumer} #1`, `flaky ${second.consumer} #2`], 'attempts count on across alerters');
  });

  it('leave no trace: the names of finished alerters are removed from the group once they hold nothing', async () => {
    receiver = await startAlertReceiver();
    await rig.redis.xgroup('CREATE', eventsStream, group, '$', 'MKSTREAM');
    await rig.redis.xreadgroup('GROUP', group, 'finished-empty', 'COUNT', 10, 'STREAMS', eventsStream, '>');
    const id = await rig.exposure('arb-left');
    await rig.redis.xreadgroup('GROUP', group, 'finished-holding', 'COUNT', 10, 'STREAMS', eventsStream, '>');
    const alerter = await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }, { claimIdleMs: 100, claimIntervalMs: 50, readBlockMs: 30, delivery: { requestTimeoutMs: 90 } }));
    const names = async () => ((await rig.redis.xinfo('CONSUMERS', eventsStream, group)) as unknown[][]).map((c) => String(c[1]));
    await waitFor('only the running alerter left', async () => JSON.stringify(await names()) === JSON.stringify([alerter.consumer]));
    assert.deepEqual(receiver.delivered(), new Set([`exposure_alert@${id}`]), 'the held entry was claimed and delivered before its holder was removed');
  });
});
