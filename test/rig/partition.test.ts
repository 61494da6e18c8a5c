// Network faults between a worker and Redis through the rig's TCP proxy: a worker partitioned while it holds a lease.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { TcpProxy } from '../../src/rig/proxy.js';
import { assertSafetyChecks, createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

describe('the rig\'s TCP proxy', () => {
  it('passes, delays, black-holes (then delivers late) and drops', async () => {
    const echo = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    const address = echo.address();
    assert.ok(address !== null && typeof address === 'object');
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: address.port });
    const client = connect(proxy.port, '127.0.0.1');
    const received: string[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk.toString()));
    client.on('error', () => undefined);
    const until = async (what: string, done: () => boolean, ms = 2_000) => {
      const deadline = Date.now() + ms;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      client.write('a');
      await until('echo', () => received.join('') === 'a');
      proxy.delay(150);
      const sentAt = Date.now();
      client.write('b');
      await until('delayed echo', () => received.join('') === 'ab');
      assert.ok(Date.now() - sentAt >= 250, 'held both ways');
      proxy.blackhole();
      client.write('c');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(received.join(''), 'ab', 'nothing through a black hole');
      proxy.pass();
      await until('late delivery', () => received.join('') === 'abc');
      let closed = false;
      client.on('close', () => { closed = true; });
      proxy.drop();
      await until('reset', () => closed);
    } finally {
      client.destroy();
      await proxy.close();
      echo.close();
    }
  });
});

describe('a worker partitioned from Redis while it holds a lease', () => {
  let h: Harness;
  let proxy: TcpProxy;

  after(async () => {
    proxy?.pass();
    await h?.close();
    await proxy?.close();
  });

  it('another worker finishes the pair; the partitioned worker\'s late writes are fenced; nothing placed twice', async () => {
    h = await createHarness(
      { providerTimeoutMs: 600, lockTtlMs: 1_800, jobLockMs: 1_000, stalledCheckMs: 300, inDoubtDeadlineMs: 3_000, lateCommitGraceMs: 300, hedgeDeadlineMs: 5_000 },
      { dedupe: false, bookA: { latencyMs: 300 } },
    );
    const url = new URL(h.redisUrl);
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port) });
    const partitionedUrl = `${proxy.url}${url.pathname}`;
    // The partitioned worker: everything it says to Redis goes through the proxy (its store and its BullMQ connections).
    const { startInProcessWorker } = await import('../../src/rig/workers.js');
    const partitioned = await startInProcessWorker({ config: h.config, redisUrl: partitionedUrl, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    h.workers.push(partitioned);
    const pair = makePair();
    await h.enqueue(pair);
    // The positive is on its way (the bookmaker answers in 300 ms): cut the worker off from Redis now.
    await h.waitFor('the positive request', async () => h.bookA.bookmaker.log().some((e) => e.clientRef.startsWith(`be1.${pair.arbId}.`)));
    proxy.blackhole();
    // Its lease and job lock lapse; another worker, with a working Redis, takes the pair over from the journal.
    await h.startWorker();
    await h.waitForEvent(pair.arbId, ['arb_executed', 'exposure_alert'], 15_000);
    // The partition heals: what the cut-off worker wrote meanwhile reaches Redis now, late, and must be refused.
    proxy.pass();
    await new Promise((r) => setTimeout(r, 1_000));
    const events = eventsFor(await h.events(), pair.arbId);
    assert.equal(events.filter((e) => e.type === 'arb_executed').length, 1, `events: ${events.map((e) => e.type).join(', ')}`);
    assert.ok(events.some((e) => e.type === 'arb_resumed'), 'the other worker resumed it from the journal');
    const state = await h.redis.hget(`be:pair:${pair.arbId}`, 'state');
    assert.ok(state === 'hedged' || state === 'settled', `journal state ${state}`);
    // Simulators that do not deduplicate references: a blind resend would be a second bet.
    assertSafetyChecks(h);
    const sent = [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].filter((e) => e.clientRef.startsWith(`be1.${pair.arbId}.`) && e.ticketId !== undefined);
    assert.deepEqual(sent.map((e) => e.clientRef).sort(), [`be1.${pair.arbId}.h1`, `be1.${pair.arbId}.p1`]);
  });
});
