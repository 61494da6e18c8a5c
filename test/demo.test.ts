// Behaviour of `bet-executor demo`: a small seeded run ends with every job terminal, every kind of outcome, and the safety checks OK.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runDemo, type DemoResult } from '../src/demo.js';
import { placementExposureReasons } from '../src/domain/exposure.js';

describe('the demo with 60 pairs (seed 3)', () => {
  let result: DemoResult;
  let printed = '';

  before(async () => {
    result = await runDemo({ pairs: 60, seed: 3, log: () => {}, out: (text) => { printed += text; } });
  });

  it('exits 0 once every enqueued job has reached a terminal event', () => {
    assert.equal(result.summary.unfinished, 0);
    assert.equal(result.code, 0);
  });

  it('executes pairs and blocks the pairs that collide on an account in cooldown', () => {
    assert.ok(result.summary.executed > 0, `executed ${result.summary.executed}`);
    assert.ok(result.summary.blocked.cooldown > 0, `blocked.cooldown ${result.summary.blocked.cooldown}`);
  });

  it('fails pairs whose positive is rejected and raises an exposure when every hedge is rejected', () => {
    assert.ok(result.summary.failed > 0, `failed ${result.summary.failed}`);
    assert.ok(result.summary.exposures > 0, `exposures ${result.summary.exposures}`);
    assert.ok((result.summary.exposuresByReason.hedge_failed_positive_active ?? 0) > 0);
  });

  it('refuses invalid input and duplicate deliveries without placing anything', () => {
    assert.ok(result.summary.rejected > 0, `rejected ${result.summary.rejected}`);
    assert.ok(result.summary.duplicates > 0, `duplicates ${result.summary.duplicates}`);
  });

  it('settles and reconciles every pair whose positive was accepted', () => {
    assert.equal(result.summary.unsettled, 0);
    assert.ok(result.summary.settled >= result.summary.executed, `settled ${result.summary.settled} < executed ${result.summary.executed}`);
  });

  it('finds an in-doubt positive by its client reference and executes the pair', () => {
    assert.ok((result.summary.books.bookA?.timeout_after_commit ?? 0) > 0, JSON.stringify(result.summary.books.bookA));
    assert.deepEqual(Object.keys(result.summary.scenarios.positive_timeout_after_commit ?? {}), ['executed']);
  });

  it('ends every scripted scenario in the outcome it demonstrates', () => {
    const expected: Record<string, string> = {
      collision: 'blocked cooldown', positive_rejected: 'failed', hedge_rejected_always: 'exposure hedge_failed_positive_active',
      stale: 'blocked stale', invalid: 'rejected',
    };
    for (const [scenario, outcomes] of Object.entries(result.summary.scenarios)) {
      assert.deepEqual(Object.keys(outcomes), [expected[scenario] ?? 'executed'], `${scenario}: ${JSON.stringify(outcomes)}`);
    }
  });

  it('accounts for every job exactly once', () => {
    const s = result.summary;
    const blocked = Object.values(s.blocked).reduce((a, b) => a + b, 0);
    const placementExposures = Object.entries(s.exposuresByReason)
      .filter(([reason]) => (placementExposureReasons as readonly string[]).includes(reason))
      .reduce((a, [, n]) => a + n, 0);
    assert.equal(s.executed + blocked + s.failed + placementExposures + s.rejected + s.duplicates, s.jobs);
  });

  it('delivers every exposure alert to the local webhook receiver and says how many', () => {
    const s = result.summary;
    assert.ok(s.exposures > 0);
    assert.equal(s.checks.exposureAlertsDelivered.violations.length, 0, s.checks.exposureAlertsDelivered.violations.join('; '));
    assert.equal(s.checks.exposureAlertsDelivered.ok, s.exposures, 'one delivered alert per exposure_alert event');
    assert.equal(s.checks.apiListsOpenExposures.violations.length, 0, s.checks.apiListsOpenExposures.violations.join('; '));
    assert.equal(s.checks.apiListsOpenExposures.ok, s.exposures, 'the API, over HTTP with a read token, lists every exposure still open');
    assert.match(s.api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.alerts.deliveredByType.exposure_alert, s.exposures);
    assert.match(printed, new RegExp(`delivered to the receiver\\s+${s.alerts.delivered}\\b`));
    assert.match(printed, /every exposure alert delivered\s+OK/);
  });

  it('prints both safety checks as OK', () => {
    assert.equal(result.summary.checks.acceptedPerRef.violationsTotal, 0);
    assert.equal(result.summary.checks.hedgeAfterPositive.violationsTotal, 0);
    assert.ok(result.summary.checks.hedgeAfterPositive.ok > 0);
    assert.match(printed, /one accepted bet per client ref and per leg\s+OK/);
    assert.match(printed, /no hedge before its positive was accepted\s+OK/);
  });
});
