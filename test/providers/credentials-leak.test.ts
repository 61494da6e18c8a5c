// Bookmaker keys never leak: pairs run through a worker process at LOG_LEVEL=debug against simulators that
// require keys, then every log line, event, audit entry and Redis value (BullMQ job data included) is searched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { unauthorizedReason } from '../../src/providers/http.js';
import { createHarness, eventsFor, makePair, type Harness, type StreamRow } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_rejected', 'arb_blocked', 'exposure_alert'];

/** A key as a bookmaker would issue it; the random core is what the search looks for. */
function newKey(label: string): string {
  return `sk-${label}-${randomBytes(12).toString('hex')}`;
}

/** Every key of the test database with its value, whatever its type, as text. */
async function redisDump(redis: Redis): Promise<{ keys: string[]; text: string }> {
  const keys: string[] = [];
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = await redis.get(key);
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      else value = `(type ${type})`;
      keys.push(key);
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return { keys, text: parts.join('\n') };
}

/** Searches everything the system wrote for each secret: worker log, events, audit, every Redis value. */
async function assertNoSecretAnywhere(h: Harness, logFile: string, secrets: string[]): Promise<{ log: string; dump: { keys: string[]; text: string } }> {
  const log = readFileSync(logFile, 'utf8');
  const streams = JSON.stringify([...(await h.events()), ...(await h.audit())]);
  const dump = await redisDump(h.redis);
  for (const secret of secrets) {
    const core = secret.slice(secret.lastIndexOf('-') + 1);
    for (const [where, text] of [['worker log', log], ['events and audit', streams], ['Redis values', dump.text]] as const) {
      assert.ok(!text.includes(core), `${where} holds the secret ${secret.slice(0, 8)}…`);
    }
  }
  return { log, dump };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'be-leak-'));
}

async function waitTerminal(h: Harness, arbIds: string[], timeoutMs = 30_000): Promise<StreamRow[]> {
  return h.waitFor('every pair terminal', async () => {
    const events = await h.events();
    const done = new Set(events.filter((e) => terminal.includes(e.type)).map((e) => e.data.arbId));
    return arbIds.every((id) => done.has(id)) ? events : undefined;
  }, timeoutMs);
}

describe('bookmaker keys through a worker process at LOG_LEVEL=debug', () => {
  it('are sent and checked, and appear in no log line, event, audit entry, Redis value or job', async () => {
    const keyA = newKey('booka');
    const keyB = newKey('bookb');
    const keyVip = newKey('vip');
    const dir = tempDir();
    const vipFile = join(dir, 'vip.key');
    writeFileSync(vipFile, `${keyVip}\n`);
    const h = await createHarness({ settlementPollIntervalMs: 20, settlementPollCountMax: 500, hedgeAttemptsMax: 2 }, {
      // Later than the in-doubt positive's lookup (a timeout, then lookups), which must find it unsettled.
      settleAfterMs: 1_500,
      bookA: { apiKeys: [keyA], accountApiKeys: { 'acc-vip': keyVip } },
      bookB: { apiKeys: [keyB] },
      providers: {
        bookA: { credentials: { env: 'BE_T_BOOKA_KEY' }, accounts: { 'acc-vip': { credentials: { file: vipFile } } } },
        bookB: { credentials: { env: 'BE_T_BOOKB_KEY' } },
      },
    });
    try {
      const logFile = join(dir, 'worker.log');
      h.spawnWorker({ BE_T_BOOKA_KEY: keyA, BE_T_BOOKB_KEY: keyB, LOG_LEVEL: 'debug' }, { stderrFile: logFile });
      const plain = [makePair(), makePair(), makePair()];
      const vip = makePair({}, { positive: { accountId: 'ACC-VIP' } });
      const hedgeRetried = makePair();
      const hedgeFailed = makePair();
      const positiveInDoubt = makePair();
      const invalid = makePair({ currency: 'eur' });
      h.bookB.bookmaker.addFault({ fault: 'reject', match: { clientRef: `be1.${hedgeRetried.arbId}.h1` } });
      h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: String((hedgeFailed.hedgeBet as { accountId: string }).accountId) }, count: 10 });
      h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${positiveInDoubt.arbId}.p1` }, params: { hangMs: 2_000 } });
      const all = [...plain, vip, hedgeRetried, hedgeFailed, positiveInDoubt, invalid];
      for (const pair of all) await h.enqueue(pair);
      const events = await waitTerminal(h, all.map((p) => p.arbId));
      const executed = [...plain, vip, hedgeRetried, positiveInDoubt];
      for (const pair of executed) assert.ok(eventsFor(events, pair.arbId).some((e) => e.type === 'arb_executed'), `${pair.arbId} executed: ${JSON.stringify(eventsFor(events, pair.arbId))}`);
      assert.ok(eventsFor(events, hedgeFailed.arbId).some((e) => e.type === 'exposure_alert'));
      assert.ok(eventsFor(events, invalid.arbId).some((e) => e.type === 'arb_rejected'));
      // Settlement polls (status checks under the provider key) ran too.
      await h.waitFor('executed pairs settled', async () => {
        const settled = new Set((await h.events()).filter((e) => e.type === 'arb_settled').map((e) => e.data.arbId));
        return executed.every((p) => settled.has(p.arbId));
      }, 30_000);
      // The keys were used: the VIP account's placement got through only under its own key.
      assert.ok(h.bookA.bookmaker.log().some((e) => e.accountId === 'ACC-VIP' && e.decision === 'accepted'));

      const { log, dump } = await assertNoSecretAnywhere(h, logFile, [keyA, keyB, keyVip]);
      assert.match(log, /bookmaker credentials read \(keys never logged\)/);
      assert.match(log, /"bookA":"env BE_T_BOOKA_KEY \(\+ 1 account key\(s\)\)"/);
      assert.match(log, /EXPOSURE ALERT/, 'the log holds the pairs’ lines, not only start-up');
      assert.ok(dump.keys.some((k) => k.startsWith('bull:bet-pairs:')), 'BullMQ job data was searched');
    } finally {
      await h.close();
    }
  });

  it('with a wrong key: the positive is rejected unauthorized, nothing placed, nothing in doubt; a wrong hedge key is a hedge failure, not a doubt', async () => {
    const keyA = newKey('booka');
    const keyB = newKey('bookb');
    const wrongB = newKey('wrong');
    const dir = tempDir();
    const h = await createHarness({ hedgeAttemptsMax: 2 }, {
      bookA: { apiKeys: [keyA] },
      bookB: { apiKeys: [keyB] },
      providers: { bookA: { credentials: { env: 'BE_T_BOOKA_KEY' } }, bookB: { credentials: { env: 'BE_T_BOOKB_KEY' } } },
    });
    try {
      const logFile = join(dir, 'worker.log');
      h.spawnWorker({ BE_T_BOOKA_KEY: keyA, BE_T_BOOKB_KEY: wrongB, LOG_LEVEL: 'debug' }, { stderrFile: logFile });
      // Positive on bookB (wrong key), hedge on bookA; and the other way round.
      const positiveRefused = makePair({ provider: 'bookB' }, { positive: { provider: 'bookB' }, hedge: { provider: 'bookA' } });
      const hedgeRefused = makePair();
      await h.enqueue(positiveRefused);
      await h.enqueue(hedgeRefused);
      const events = await waitTerminal(h, [positiveRefused.arbId, hedgeRefused.arbId]);

      const refused = eventsFor(events, positiveRefused.arbId);
      const failed = refused.find((e) => e.type === 'arb_failed');
      assert.equal(failed?.data.reason, 'positive_bet_rejected');
      assert.equal(failed?.data.error, unauthorizedReason(401));
      assert.equal(failed?.data.error, 'unauthorized: the bookmaker refused our credentials (http_401)');
      assert.deepEqual(h.bookB.bookmaker.log(), [], 'nothing reached bookB’s book');
      assert.ok(!h.bookA.bookmaker.log().some((e) => e.clientRef.includes(positiveRefused.arbId)), 'its hedge was never sent');

      const hedged = eventsFor(events, hedgeRefused.arbId);
      const alert = hedged.find((e) => e.type === 'exposure_alert');
      assert.equal(alert?.data.exposure_reason, 'hedge_failed_positive_active');
      assert.match(String((alert?.data.record as { detail?: string } | undefined)?.detail), /^unauthorized: the bookmaker refused our credentials \(http_401\)/);
      assert.equal(hedged.filter((e) => e.type === 'hedge_retry').length, 1, 'each hedge attempt was refused for certain, then retried');

      const everything = JSON.stringify([...events, ...(await h.audit())]);
      assert.doesNotMatch(everything, /in_doubt|possibly sent/, 'a refusal is certain, never in doubt');
      await assertNoSecretAnywhere(h, logFile, [keyA, keyB, wrongB]);
    } finally {
      await h.close();
    }
  });
});
