// The four sinks: how one alert becomes one HTTP request for a JSON webhook, Slack, Telegram or Alertmanager.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config.js';
import { messageText, type Alert } from './alert.js';
import type { AlerterConfig, SinkConfig } from './config.js';
import { readSecret } from '../credentials.js';

export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Sink {
  name: string;
  type: SinkConfig['type'];
  /** Alert kinds this sink receives (null: every alerted kind). */
  events: ReadonlySet<string> | null;
  /** Values to blank out of anything logged or recorded about this sink (tokens, secret URLs). */
  secrets: readonly string[];
  /** The request of one attempt; `nowMs` stamps the signature. */
  request(alert: Alert, attempt: number, nowMs: number): SinkRequest;
}

/** Header names of the generic webhook (documented in the README for receivers). */
export const webhookHeaders = {
  signature: 'x-bet-executor-signature',
  timestamp: 'x-bet-executor-timestamp',
  alertKey: 'x-bet-executor-alert-key',
  idempotencyKey: 'idempotency-key',
} as const;

const slackTextCharsMax = 3_000;
const telegramTextCharsMax = 4_096;
const telegramTokenPattern = /^[A-Za-z0-9:_-]{1,256}$/;

/** `sha256=` + hex HMAC-SHA256 of `{timestampMs}.{body}` under the sink's secret. */
export function signWebhook(secret: string, timestampMs: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`;
}

/** A receiver's check of a webhook request (constant-time compare); what the README shows receivers. */
export function verifyWebhookSignature(secret: string, timestampHeader: string | undefined, signatureHeader: string | undefined, body: string): boolean {
  if (timestampHeader === undefined || signatureHeader === undefined || !/^\d{1,16}$/.test(timestampHeader)) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestampHeader), body));
  const given = Buffer.from(signatureHeader);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The generic webhook's JSON body. */
export function webhookPayload(alert: Alert, attempt: number): Record<string, unknown> {
  return {
    alertKey: alert.alertKey,
    fingerprint: alert.fingerprint,
    eventType: alert.eventType,
    eventId: alert.eventId,
    status: alert.status,
    severity: alert.severity,
    title: alert.title,
    text: alert.lines.join('\n'),
    occurredAt: new Date(alert.occurredAtMs).toISOString(),
    attempt,
    data: alert.data,
  };
}

function jsonHeaders(alert: Alert): Record<string, string> {
  return { 'content-type': 'application/json', [webhookHeaders.idempotencyKey]: alert.alertKey, [webhookHeaders.alertKey]: alert.alertKey };
}

/** Slack mrkdwn treats &, < and > as markup. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One Alertmanager API v2 alert; a `resolved` alert ends (endsAt) the firing one with the same labels. */
export function alertmanagerAlert(alert: Alert): Record<string, unknown> {
  const at = new Date(alert.occurredAtMs).toISOString();
  return {
    labels: { ...alert.labels, service: 'bet-executor' },
    annotations: { summary: alert.title, description: alert.lines.join('\n'), alertKey: alert.alertKey, fingerprint: alert.fingerprint, eventId: alert.eventId },
    startsAt: at,
    ...(alert.status === 'resolved' ? { endsAt: at } : {}),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function sinkOf(name: string, config: SinkConfig, env: NodeJS.ProcessEnv): Sink {
  const events = config.events ? new Set<string>(config.events) : null;
  switch (config.type) {
    case 'webhook': {
      const secret = readSecret(config.secret, `sinks.${name}.secret`, env).reveal();
      return {
        name, type: config.type, events, secrets: [secret],
        request(alert, attempt, nowMs) {
          const body = JSON.stringify(webhookPayload(alert, attempt));
          return { url: config.url, body, headers: { ...jsonHeaders(alert), [webhookHeaders.timestamp]: String(nowMs), [webhookHeaders.signature]: signWebhook(secret, nowMs, body) } };
        },
      };
    }
    case 'slack': {
      const url = readSecret(config.webhookUrl, `sinks.${name}.webhookUrl`, env).reveal();
      if (!/^https?:\/\//.test(url)) throw new ConfigError(`sinks.${name}.webhookUrl: the secret is not an http(s) URL`);
      return {
        name, type: config.type, events, secrets: [url],
        request: (alert) => ({ url, headers: jsonHeaders(alert), body: JSON.stringify({ text: slackEscape(messageText(alert, slackTextCharsMax)), unfurl_links: false }) }),
      };
    }
    case 'telegram': {
      const token = readSecret(config.botToken, `sinks.${name}.botToken`, env).reveal();
      if (!telegramTokenPattern.test(token)) throw new ConfigError(`sinks.${name}.botToken: not a bot token (letters, digits, ':', '_', '-')`);
      const url = `${trimSlash(config.baseUrl)}/bot${token}/sendMessage`;
      return {
        name, type: config.type, events, secrets: [token],
        request: (alert) => ({ url, headers: jsonHeaders(alert), body: JSON.stringify({ chat_id: config.chatId, text: messageText(alert, telegramTextCharsMax), disable_web_page_preview: true }) }),
      };
    }
    case 'alertmanager': {
      const token = config.bearerToken ? readSecret(config.bearerToken, `sinks.${name}.bearerToken`, env).reveal() : null;
      const url = `${trimSlash(config.url)}/api/v2/alerts`;
      return {
        name, type: config.type, events, secrets: token === null ? [] : [token],
        request: (alert) => ({
          url,
          headers: { ...jsonHeaders(alert), ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
          body: JSON.stringify([alertmanagerAlert(alert)]),
        }),
      };
    }
  }
}

/** Every configured sink with its secrets read; a missing secret is a ConfigError naming the field. */
export function sinksFromConfig(config: AlerterConfig, env: NodeJS.ProcessEnv = process.env): Sink[] {
  return Object.entries(config.sinks).map(([name, sink]) => sinkOf(name, sink, env));
}

/** The sinks an alert goes to: those that take its kind, minus those it excludes. */
export function targetsOf(alert: Alert, sinks: readonly Sink[]): Sink[] {
  return sinks.filter((s) => !alert.excludeSinks.includes(s.name) && (s.events === null || s.events.has(alert.eventType)));
}
