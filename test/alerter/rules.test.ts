// The alerter's pure rules: which answers are delivered, retried or refused, how long to wait, what an alert says, the config.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { alertOf, clean, defaultAlertEvents, messageText } from '../../src/alerter/alert.js';
import { parseAlerterConfig } from '../../src/alerter/config.js';
import { exposureUnresolvedCondition, workerHeartbeatCondition } from '../../src/alerter/deadman.js';
import { retryAfterOf, retryDelayMs, verdictOf } from '../../src/alerter/retry.js';
import { readSecret } from '../../src/credentials.js';
import { signWebhook, sinksFromConfig, targetsOf, verifyWebhookSignature } from '../../src/alerter/sinks.js';
import { ConfigError } from '../../src/config.js';
import { exposureAlertData } from './support.js';

const nowMs = Date.parse('2026-11-24T10:00:00Z');
const answered = (httpStatus: number, retryAfterHeader: string | null = null, body = '') => ({ kind: 'answered' as const, httpStatus, retryAfterHeader, body });

describe('the verdict on one attempt', () => {
  const table: Array<[string, Parameters<typeof verdictOf>[0], string, number | null]> = [
    ['200', answered(200), 'delivered', null],
    ['204', answered(204), 'delivered', null],
    ['500', answered(500), 'retry', null],
    ['502', answered(502), 'retry', null],
    ['408', answered(408), 'retry', null],
    ['429 with Retry-After seconds', answered(429, '7'), 'retry', 7_000],
    ['503 with Retry-After date', answered(503, 'Tue, 24 Nov 2026 10:00:30 GMT'), 'retry', 30_000],
    ['429 with Telegram retry_after', answered(429, null, '{"ok":false,"parameters":{"retry_after":3}}'), 'retry', 3_000],
    ['429 without a hint', answered(429), 'retry', null],
    ['500 with Retry-After (not honoured: only 429/503)', answered(500, '9'), 'retry', null],
    ['no answer (timeout)', { kind: 'no_answer', error: 'timeout' }, 'retry', null],
    ['400', answered(400), 'refused', null],
    ['401', answered(401), 'refused', null],
    ['404', answered(404), 'refused', null],
    ['301', answered(301), 'refused', null],
  ];
  for (const [name, answer, kind, retryAfterMs] of table) {
    it(`${name} → ${kind}${retryAfterMs === null ? '' : ` after ${retryAfterMs} ms`}`, () => {
      const verdict = verdictOf(answer, nowMs);
      assert.equal(verdict.kind, kind);
      if (verdict.kind === 'retry') assert.equal(verdict.retryAfterMs, retryAfterMs);
    });
  }

  it('reads a past Retry-After date as "now" and ignores garbage', () => {
    assert.equal(retryAfterOf('Tue, 24 Nov 2026 09:00:00 GMT', '', nowMs), 0);
    assert.equal(retryAfterOf('soon', 'not json', nowMs), null);
    assert.equal(retryAfterOf(null, '{"parameters":{"retry_after":-1}}', nowMs), null);
  });
});

describe('the pause before the next attempt', () => {
  const limits = { backoffBaseMs: 100, backoffMsMax: 1_000, retryAfterMsMax: 5_000 };
  it('doubles from the base up to the cap, with half of it jittered', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 30, 1000].map((a) => retryDelayMs(a, null, limits, 0)), [50, 100, 200, 400, 500, 500, 500]);
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, null, limits, 0.999999)), [100, 200, 400, 800, 1_000]);
  });
  it('waits at least what the receiver asked for, up to retryAfterMsMax', () => {
    assert.equal(retryDelayMs(1, 3_000, limits, 0), 3_000);
    assert.equal(retryDelayMs(1, 60_000, limits, 0), 5_000);
    assert.equal(retryDelayMs(5, 10, limits, 0), 500, 'never shorter than the backoff');
  });
});

describe('what an event alerts', () => {
  const all = new Set<string>(defaultAlertEvents);
  it('an exposure alert: its key from the stream entry, a fingerprint per arb and reason, the review command', () => {
    const alert = alertOf({ id: '1795536049310-0', type: 'exposure_alert', data: exposureAlertData('arb-7', 'hedge_in_doubt') }, all);
    assert.ok(alert);
    assert.equal(alert.alertKey, 'exposure_alert@1795536049310-0');
    assert.equal(alert.fingerprint, 'exposure:arb-7:hedge_in_doubt');
    assert.equal(alert.occurredAtMs, 1795536049310);
    assert.equal(alert.severity, 'critical');
    assert.ok(alert.lines.some((l) => l.includes('bet-executor exposures resolve arb-7')));
  });
  it('nothing for events not configured, or not alertable', () => {
    assert.equal(alertOf({ id: '1-0', type: 'exposure_updated', data: {} }, all), null);
    assert.equal(alertOf({ id: '1-0', type: 'arb_executed', data: {} }, all), null);
    assert.ok(alertOf({ id: '1-0', type: 'exposure_updated', data: exposureAlertData('a', 'r') }, new Set(['exposure_updated'])));
  });
  it('a dead-letter alert skips the sink that failed', () => {
    const alert = alertOf({ id: '2-0', type: 'alert_dead_lettered', data: { sink: 'slack', alertKey: 'exposure_alert@1-0', attempts: 8 } }, all);
    assert.deepEqual(alert?.excludeSinks, ['slack']);
  });
  it('escapes control and bidirectional-override characters and cuts long values', () => {
    assert.equal(clean('a\u202Eb\nc'), 'a\\u{202e}b\\u{a}c');
    assert.equal(clean('x'.repeat(600)).length, 500);
    const alert = alertOf({ id: '3-0', type: 'kill_switch_set', data: { key: 'be:kill:global', reason: 'evil\u202Etxt.exe' } }, all);
    assert.ok(alert && !messageText(alert, 4_000).includes('\u202E'));
  });
});

describe('the dead-man\'s conditions', () => {
  it('workers: fresh beat clears; none at all waits for the alerter\'s own uptime; a stale one fires at once', () => {
    assert.equal(workerHeartbeatCondition([nowMs - 1_000], nowMs, 5_000, 0).holds, false);
    assert.equal(workerHeartbeatCondition([], nowMs, 5_000, 4_999).holds, false);
    assert.equal(workerHeartbeatCondition([], nowMs, 5_000, 5_000).holds, true);
    assert.equal(workerHeartbeatCondition([nowMs - 6_000], nowMs, 5_000, 0).holds, true);
  });
  it('exposures: the oldest past the threshold is named; an unreadable detection time counts as overdue', () => {
    const state = exposureUnresolvedCondition([{ id: 'a', reason: 'r1', detectedAtMs: nowMs - 10_000 }, { id: 'b', reason: 'r2', detectedAtMs: nowMs - 20_000 }], nowMs, 5_000);
    assert.equal(state.holds, true);
    assert.match(state.detail, /2 of 2 .* oldest: arb b \(r2\)/);
    assert.equal(exposureUnresolvedCondition([{ id: 'a', reason: 'r', detectedAtMs: nowMs - 1_000 }], nowMs, 5_000).holds, false);
    assert.match(exposureUnresolvedCondition([{ id: 'x', reason: 'r', detectedAtMs: 0 }], nowMs, 5_000).detail, /detected_at unreadable/);
  });
});

describe('the alerter config', () => {
  const sinks = { hook: { type: 'webhook', url: 'https://ops.example/alerts', secret: { env: 'HOOK_SECRET' } } };
  it('has documented defaults', () => {
    const config = parseAlerterConfig({ sinks });
    assert.equal(config.consumerGroup, 'bet-executor-alerter');
    assert.equal(config.startFrom, 'new');
    assert.deepEqual(config.delivery, { attemptsMax: 8, backoffBaseMs: 1_000, backoffMsMax: 60_000, retryAfterMsMax: 300_000, requestTimeoutMs: 5_000, connections: 8 });
    assert.equal(config.deadman.workerHeartbeatStaleMs, 60_000);
    assert.equal(config.deadman.exposureUnresolvedMs, 3_600_000);
    assert.deepEqual(config.events, [...defaultAlertEvents]);
  });
  const refused: Array<[string, unknown, RegExp]> = [
    ['an inline secret', { sinks: { hook: { ...sinks.hook, secret: 'hunter2' } } }, /sinks\.hook\.secret: a secret is referenced, never written in the config/],
    ['credentials in a URL', { sinks: { hook: { ...sinks.hook, url: 'https://u:p@ops.example/' } } }, /no user:password@/],
    ['a javascript: URL', { sinks: { hook: { ...sinks.hook, url: 'javascript:alert(1)' } } }, /sinks\.hook\.url/],
    ['a sink named __proto__', JSON.parse('{"sinks":{"__proto__":{"type":"webhook","url":"https://x.example","secret":{"env":"S"}}}}'), /reserved name/],
    ['no sink', { sinks: {} }, /at least one sink/],
    ['an unknown key', { sinks, retries: 3 }, /retries/],
    ['an unknown sink type', { sinks: { pager: { type: 'pagerduty' } } }, /sinks\.pager/],
    ['a limit over its maximum', { sinks, delivery: { attemptsMax: 1_000 } }, /delivery\.attemptsMax/],
    ['backoff base over its cap', { sinks, delivery: { backoffBaseMs: 5_000, backoffMsMax: 1_000 } }, /backoffBaseMs \(5000\) > delivery\.backoffMsMax \(1000\)/],
    ['a request timeout as long as claimIdleMs', { sinks, claimIdleMs: 5_000 }, /requestTimeoutMs \(5000\) >= claimIdleMs \(5000\)/],
    ['a sink taking an event that is not alerted', { sinks: { hook: { ...sinks.hook, events: ['exposure_updated'] } } }, /sinks\.hook\.events: exposure_updated not in events/],
  ];
  for (const [what, raw, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseAlerterConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }
});

describe('secrets and signatures', () => {
  const sinks = { hook: { type: 'webhook', url: 'https://ops.example/alerts', secret: { env: 'HOOK_SECRET' } } };
  it('reads a secret from a file or the environment, and names the field (never the value) when missing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'be-secret-')), 'token');
    writeFileSync(file, 'from-file\n');
    assert.equal(readSecret({ file }, 'x', {}).reveal(), 'from-file');
    assert.equal(readSecret({ env: 'S' }, 'x', { S: 'from-env' }).reveal(), 'from-env');
    assert.throws(() => readSecret({ env: 'S' }, 'sinks.a.secret', {}), /sinks\.a\.secret: environment variable S is not set/);
    assert.throws(() => readSecret({ file: `${file}.missing` }, 'sinks.a.secret', {}), /ENOENT/);
  });
  it('signs the timestamp and body; a receiver verifies it and rejects a changed body', () => {
    const signature = signWebhook('k', 1_000, '{"a":1}');
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verifyWebhookSignature('k', '1000', signature, '{"a":1}'));
    assert.ok(!verifyWebhookSignature('k', '1000', signature, '{"a":2}'));
    assert.ok(!verifyWebhookSignature('k', '1001', signature, '{"a":1}'));
  });
  it('sends an alert to the sinks that take its kind', () => {
    const config = parseAlerterConfig({ sinks: { all: sinks.hook, exposures: { ...sinks.hook, events: ['exposure_alert'] } } });
    const built = sinksFromConfig(config, { HOOK_SECRET: 's' });
    const kill = alertOf({ id: '1-0', type: 'kill_switch_set', data: { key: 'be:kill:global' } }, new Set(config.events));
    assert.ok(kill);
    assert.deepEqual(targetsOf(kill, built).map((s) => s.name), ['all']);
  });
});
