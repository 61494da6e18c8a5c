// The API's /metrics: a read token scrapes the scrape-time gauges (exposures, kill switches, queues); no token, no metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makePair } from '../support/harness.js';
import { createApiRig, type ApiRig } from './support.js';

describe('the API /metrics', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig();
  });
  after(async () => rig.close());

  it('serves the Redis-derived gauges to a read token, and refuses a scraper without one', async () => {
    const { h } = rig;
    await h.startWorker();
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: String((pair.hedgeBet as { accountId: string }).accountId) }, count: 10 });
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['exposure_alert']);
    const scrape = await rig.api.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${rig.tokens.read}` } });
    assert.equal(scrape.statusCode, 200);
    assert.match(String(scrape.headers['content-type']), /^text\/plain/);
    assert.match(scrape.body, /^bet_executor_exposures_open 1$/m);
    assert.match(scrape.body, /^bet_executor_queue_jobs\{queue="bet-pairs",state="waiting"\} 0$/m);
    assert.match(scrape.body, /^process_cpu_user_seconds_total /m);
    const anonymous = await rig.api.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(anonymous.statusCode, 401);
    assert.doesNotMatch(anonymous.body, /bet_executor_/);
  });
});
