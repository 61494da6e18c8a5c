// An alerter in this process delivering to a local webhook receiver (the demo's): signed requests, verified on arrival.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startAlerter, type RunningAlerter } from './alerter.js';
import { parseAlerterConfig } from './config.js';
import { startAlertReceiver, type AlertReceiver } from './receiver.js';
import { verifyWebhookSignature, webhookHeaders } from './sinks.js';

export interface LocalAlerter {
  receiver: AlertReceiver;
  alerter: RunningAlerter;
  /** Alert keys the receiver took (2xx), by event type. */
  deliveredByType(): Record<string, number>;
  /** Waits until every key is delivered or `waitMsMax` passes; returns the keys still missing. */
  waitForDelivered(alertKeys: readonly string[], waitMsMax: number): Promise<string[]>;
  close(): Promise<void>;
}

const pollMs = 100;

/**
 * Starts a receiver that answers 401 to a request whose HMAC signature does not verify, and an alerter with one
 * generic webhook sink pointing at it; the signing secret is a random one in a 0600 file under `dir`.
 */
export async function startLocalAlerter(options: { redisUrl: string; dir: string; consumerGroup: string; log: Logger }): Promise<LocalAlerter> {
  const secret = randomBytes(32).toString('hex');
  const secretFile = join(options.dir, 'alert-webhook.secret');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  const receiver = await startAlertReceiver((request) => {
    const signed = verifyWebhookSignature(secret, request.headers[webhookHeaders.timestamp] as string | undefined, request.headers[webhookHeaders.signature] as string | undefined, request.bodyText);
    return signed ? { status: 200, body: '{"ok":true}' } : { status: 401, body: '{"error":"bad signature"}' };
  });
  const config = parseAlerterConfig({
    sinks: { 'local-webhook': { type: 'webhook', url: `${receiver.url}/alerts`, secret: { file: secretFile } } },
    consumerGroup: options.consumerGroup,
    readBlockMs: 200,
    delivery: { backoffBaseMs: 100, backoffMsMax: 2_000, requestTimeoutMs: 2_000 },
    // Demo exposures are never resolved by a person; the worker's heartbeat is watched as in production.
    deadman: { exposureUnresolvedMs: null },
  });
  let alerter: RunningAlerter;
  try {
    alerter = await startAlerter({ config, redisUrl: options.redisUrl, log: options.log });
  } catch (error) {
    await receiver.close();
    throw error;
  }
  return {
    receiver,
    alerter,
    deliveredByType() {
      const counts: Record<string, number> = {};
      for (const key of receiver.delivered()) {
        const type = key.split('@')[0] ?? 'unknown';
        counts[type] = (counts[type] ?? 0) + 1;
      }
      return counts;
    },
    async waitForDelivered(alertKeys, waitMsMax) {
      const deadline = Date.now() + waitMsMax;
      for (;;) {
        const delivered = receiver.delivered();
        const missing = alertKeys.filter((k) => !delivered.has(k));
        if (missing.length === 0 || Date.now() >= deadline) return missing;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
    async close() {
      await alerter.close();
      await receiver.close();
    },
  };
}
