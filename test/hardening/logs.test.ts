// The worker's log lines, captured in-process: each pair's outcome at info with its ids, the bookmaker exchange at
// debug, rejections with their arbId, one EXPOSURE ALERT line per exposure alert, and no disguising characters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/infra/log.js';
import { createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

type Line = Record<string, unknown>;

describe('worker log lines', () => {
  let h: Harness;
  const raw: string[] = [];
  const lines = (): Line[] => raw.map((l) => JSON.parse(l) as Line);
  const linesOf = (arbId: string): Line[] => lines().filter((l) => l.arbId === arbId || JSON.stringify(l).includes(arbId));

  before(async () => {
    h = await createHarness({ settlementPollIntervalMs: 20, settlementPollCountMax: 10_000 });
    await h.startWorker({}, { log: createLogger('bet-executor', 'debug', { write: (s: string) => void raw.push(...s.split('\n').filter(Boolean)) }) });
  });
  after(async () => h.close());

  it('logs a pair\'s outcome once at info with arbId, betPairId, jobId, outcome and reason', async () => {
    const pair = makePair();
    const jobId = await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['arb_executed']);
    await h.waitFor('outcome line', async () => linesOf(pair.arbId).some((l) => l.msg === 'bet pair outcome'));
    const outcome = linesOf(pair.arbId).filter((l) => l.msg === 'bet pair outcome');
    assert.equal(outcome.length, 1);
    assert.deepEqual(
      [outcome[0]?.level, outcome[0]?.arbId, outcome[0]?.betPairId, outcome[0]?.jobId, typeof outcome[0]?.outcome, 'reason' in outcome[0]!],
      [30, pair.arbId, pair.betPairId, jobId, 'string', true],
    );
  });

  it('logs each bookmaker request and answer at debug, without credentials', async () => {
    const pair = makePair();
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['arb_executed']);
    const debug = linesOf(pair.arbId).filter((l) => l.level === 20);
    const requests = debug.filter((l) => l.msg === 'bookmaker request' && l.operation === 'place');
    const answers = debug.filter((l) => l.msg === 'bookmaker answer' && l.operation === 'place');
    assert.deepEqual(requests.map((l) => (l.request as Line).clientRef).sort(), [`be1.${pair.arbId}.h1`, `be1.${pair.arbId}.p1`]);
    assert.equal(answers.length, 2);
    assert.ok(answers.every((l) => (l.answer as Line).kind === 'accepted'));
    assert.ok(!raw.some((l) => /authorization|bearer/i.test(l)));
  });

  it('names the arbId on a rejection line', async () => {
    const pair = makePair({ currency: 'euro' });
    const jobId = await h.enqueue(pair);
    await h.waitFor('rejection line', async () => lines().find((l) => l.jobId === jobId && String(l.msg).startsWith('bet pair rejected')));
    const line = lines().find((l) => l.jobId === jobId && String(l.msg).startsWith('bet pair rejected'));
    assert.equal(line?.arbId, pair.arbId);
    assert.equal(line?.outcome, 'rejected');
  });

  // The placement's alert was logged again at settlement before the settlement work (dfe80a4); this keeps it so.
  it('writes exactly one EXPOSURE ALERT line per exposure_alert event (placement, then settlement)', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: (pair.hedgeBet as { accountId: string }).accountId }, count: 10 });
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['exposure_alert']);
    assert.equal(h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'won').kind, 'settled');
    await h.waitForEvent(pair.arbId, ['arb_settled']);
    const alerts = async () => eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'exposure_alert').length;
    const alertLines = () => linesOf(pair.arbId).filter((l) => String(l.msg).startsWith('EXPOSURE ALERT'));
    await h.waitFor('settlement done', async () => (await h.redis.zscore('be:pairs:open', pair.arbId)) === null);
    assert.equal(alertLines().length, await alerts(), JSON.stringify(alertLines().map((l) => l.msg)));
  });

  it('escapes control and bidi characters from job data (U+202E, ESC, newline) in every field and message', async () => {
    const evil = '\u202eEUR\u001b[31m\nfake line';
    const jobId = await h.enqueue(makePair({ currency: evil, note: evil }));
    await h.waitFor('rejection line', async () => lines().find((l) => l.jobId === jobId));
    const text = raw.filter((l) => l.includes(`"jobId":"${jobId}"`)).join('\n');
    assert.ok(text.length > 0);
    assert.ok(!['\u202e', '\u001b', '\u2028', '\u2029'].some((c) => text.includes(c)), 'no raw disguising character in the log');
    assert.ok(text.includes('\\\\u202e'), 'written out as a visible escape');
  });
});
