// Rig of the alerter tests: a fresh Redis database, fast alerter timings, exposure events, in-process alerters and waits.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startAlerter, type RunningAlerter } from '../../src/alerter/alerter.js';
import { parseAlerterConfig, type AlerterConfig } from '../../src/alerter/config.js';
import { alertDeadList, alertDeliveriesStream, eventsStream } from '../../src/store/keys.js';
import { readStream } from '../../src/store/store.js';
import { freshRedisUrl } from '../support/redis.js';

export const hookSecret = 'test-hook-secret-0123456789';
export const secretEnv: NodeJS.ProcessEnv = { HOOK_SECRET: hookSecret, TG_TOKEN: '123456:test-token_x', AM_TOKEN: 'am-bearer-token' };

/**
 * Fast timings: retries in tens of ms, dead-man off unless asked. The request deadline is long enough that a
 * loaded machine does not turn a receiver's answer into a timeout (and an extra attempt a test did not expect).
 */
export function fastAlerterConfig(sinks: Record<string, unknown>, overrides: Record<string, unknown> = {}): AlerterConfig {
  // `delivery` and `deadman` overrides are merged into the fast ones, not put in their place.
  const { delivery, deadman, ...rest } = overrides as { delivery?: object; deadman?: object };
  return parseAlerterConfig({
    sinks,
    readBlockMs: 50,
    claimIdleMs: 3_000,
    claimIntervalMs: 150,
    ...rest,
    delivery: { attemptsMax: 5, backoffBaseMs: 20, backoffMsMax: 200, retryAfterMsMax: 3_000, requestTimeoutMs: 2_000, ...delivery },
    deadman: { checkIntervalMs: 50, workerHeartbeatStaleMs: null, exposureUnresolvedMs: null, realertIntervalMs: 300, ...deadman },
  });
}

export function webhookSink(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'webhook', url, secret: { env: 'HOOK_SECRET' }, ...extra };
}

export interface AlerterRig {
  redisUrl: string;
  redis: Redis;
  alerters: RunningAlerter[];
  start(config: AlerterConfig, env?: NodeJS.ProcessEnv): Promise<RunningAlerter>;
  /** Appends an exposure_alert event shaped as the executor writes it; returns the stream entry id. */
  exposure(arbId: string, reason?: string): Promise<string>;
  event(type: string, data: Record<string, unknown>): Promise<string>;
  deliveries(): Promise<Array<Record<string, string>>>;
  dead(): Promise<Array<Record<string, unknown>>>;
  pendingCount(group?: string): Promise<number>;
  close(): Promise<void>;
}

export async function createAlerterRig(): Promise<AlerterRig> {
  const redisUrl = await freshRedisUrl();
  const redis = new Redis(redisUrl);
  const alerters: RunningAlerter[] = [];
  const rig: AlerterRig = {
    redisUrl, redis, alerters,
    async start(config, env = secretEnv) {
      const running = await startAlerter({ config, redisUrl, env, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
      alerters.push(running);
      return running;
    },
    exposure: (arbId, reason = 'hedge_failed_positive_active') => rig.event('exposure_alert', exposureAlertData(arbId, reason)),
    async event(type, data) {
      return (await redis.xadd(eventsStream, '*', 'type', type, 'data', JSON.stringify(data))) as string;
    },
    async deliveries() {
      const entries = await redis.xrange(alertDeliveriesStream, '-', '+');
      return entries.map(([, fields]) => {
        const row: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) row[fields[i] as string] = fields[i + 1] as string;
        return row;
      });
    },
    async dead() {
      return (await redis.lrange(alertDeadList, 0, -1)).map((json) => JSON.parse(json) as Record<string, unknown>);
    },
    async pendingCount(group = 'bet-executor-alerter') {
      const summary = await redis.xpending(eventsStream, group) as [number, ...unknown[]];
      return Number(summary[0]);
    },
    async close() {
      await Promise.all(alerters.map((a) => a.close()));
      redis.disconnect();
    },
  };
  return rig;
}

/** The data of an exposure_alert event as src/domain/exposure.ts writes it. */
export function exposureAlertData(arbId: string, reason: string, detectedAt = new Date().toISOString()): Record<string, unknown> {
  const record = {
    bet_pair_id: `bp-${arbId}`, arb_id: arbId, whitelabel: 'wl1', positive_provider: 'bookA', hedge_provider: 'bookB',
    positive_ticket: 'A-1', hedge_ticket: null, positive_status: 'accepted', hedge_status: 'rejected', exposure_reason: reason,
    detected_at: detectedAt, expected_outcome: 'arb_profit', actual_outcome: 'accepted_rejected', requires_manual_review: true,
    auto_rebet_disabled: true, detail: 'hedge rejected 3 times',
  };
  return { arbId, betPairId: `bp-${arbId}`, whitelabel: 'wl1', exposureKey: `exposure:wl1:bookA:bp-${arbId}`, exposure_reason: reason, requiresManualReview: true, autoRebetDisabled: true, record };
}

export { readStream, eventsStream };

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
