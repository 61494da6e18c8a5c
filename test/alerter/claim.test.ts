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
    const alerter = await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }));
    await waitFor('all three delivered', async () => receiver.delivered().size === 3 && (await rig.pendingCount()) === 0);
    assert.deepEqual(receiver.delivered(), new Set(ids.map((id) => `exposure_alert@${id}`)));
    const records = (await rig.deliveries()).filter((d) => d.result === 'delivered');
    assert.deepEqual(new Set(records.map((d) => d.consumer)), new Set([alerter.consumer]));
  });

  it('are left alone while their alerter is alive, even when it waits longer than claimIdleMs between attempts', async () => {
    let calls = 0;
    receiver = await startAlertReceiver(() => (++calls <= 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    // The first alerter takes the entry; only the second looks for abandoned entries (every 100 ms).
    const sink = { hook: webhookSink(receiver.url) };
    const first = await rig.start(fastAlerterConfig(sink, { claimIdleMs: 450, claimIntervalMs: 60_000 }));
    const id = await rig.exposure('arb-slow');
    await waitFor('first attempt made', () => receiver.requests.length === 1);
    const second = await rig.start(fastAlerterConfig(sink, { claimIdleMs: 450, claimIntervalMs: 100 }));
    await waitFor('delivered', async () => receiver.delivered().size === 1 && (await rig.pendingCount()) === 0);
    const attempts = (await rig.deliveries()).filter((d) => d.alertKey === `exposure_alert@${id}`);
    assert.deepEqual(attempts.map((d) => d.attempt), ['1', '2', '3'], 'one sequence of attempts, 1 s apart, no parallel one');
    assert.deepEqual(new Set(attempts.map((d) => d.consumer)), new Set([first.consumer]), `the first alerter did it all, not ${second.consumer}`);
    assert.equal(receiver.requests.length, 3);
  });

  it('leave no trace: the names of finished alerters are removed from the group once they hold nothing', async () => {
    receiver = await startAlertReceiver();
    await rig.redis.xgroup('CREATE', eventsStream, group, '$', 'MKSTREAM');
    await rig.redis.xreadgroup('GROUP', group, 'finished-empty', 'COUNT', 10, 'STREAMS', eventsStream, '>');
    const id = await rig.exposure('arb-left');
    await rig.redis.xreadgroup('GROUP', group, 'finished-holding', 'COUNT', 10, 'STREAMS', eventsStream, '>');
    const alerter = await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }, { claimIdleMs: 100, claimIntervalMs: 50, readBlockMs: 30, delivery: { requestTimeoutMs: 80 } }));
    const names = async () => ((await rig.redis.xinfo('CONSUMERS', eventsStream, group)) as unknown[][]).map((c) => String(c[1]));
    await waitFor('only the running alerter left', async () => JSON.stringify(await names()) === JSON.stringify([alerter.consumer]));
    assert.deepEqual(receiver.delivered(), new Set([`exposure_alert@${id}`]), 'the held entry was claimed and delivered before its holder was removed');
  });
});
