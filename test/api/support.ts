// The API test rig: the end-to-end harness (Redis, simulated bookmakers, a worker) plus the API on the same Redis, driven by inject.
import type { OutgoingHttpHeaders } from 'node:http';
import { pino } from 'pino';
import { createToken } from '../../src/api/auth.js';
import { parseApiConfig, type Scope } from '../../src/api/config.js';
import { startApi, type RunningApi } from '../../src/app/api.js';
import { createHarness, type Harness } from '../support/harness.js';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: OutgoingHttpHeaders;
}

export interface CallOptions {
  /** A scope's token, a raw Authorization value (`raw`), or none. */
  as?: Scope | null;
  authorization?: string;
  body?: unknown;
  /** Sent as is, with this content type. */
  rawBody?: { payload: string; contentType: string };
  /** The client address (each test uses its own so that refusal limits do not mix). */
  ip?: string;
}

export interface ApiRig {
  h: Harness;
  api: RunningApi;
  tokens: Record<Scope, string>;
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export const tokenNames: Record<Scope, string> = { read: 'rita-reader', operate: 'otto-operator', admin: 'ada-admin' };

/** `listen`: serve on a free loopback port as well (browser tests); inject works either way. */
export async function createApiRig(apiOverrides: Record<string, unknown> = {}, harnessOverrides: Record<string, unknown> = {}, sim: { settleAfterMs?: number | null } = {}, options: { listen?: boolean } = {}): Promise<ApiRig> {
  const h = await createHarness(harnessOverrides, sim);
  const made = (['read', 'operate', 'admin'] as const).map((scope) => ({ scope, ...createToken(tokenNames[scope], scope) }));
  const config = parseApiConfig({
    tokens: made.map((m) => m.entry),
    pnlProjectionIntervalMs: 0,
    authFailures: { failuresMax: 1_000, windowMs: 60_000 },
    ...(options.listen ? { host: '127.0.0.1', port: 0 } : {}),
    ...apiOverrides,
  });
  const api = await startApi({ config, redisUrl: h.redisUrl, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), listen: options.listen ?? false });
  const tokens = Object.fromEntries(made.map((m) => [m.scope, m.token])) as Record<Scope, string>;
  return {
    h,
    api,
    tokens,
    async call(method, url, options = {}) {
      const as = options.as === undefined ? 'admin' : options.as;
      const headers: Record<string, string> = {};
      if (options.authorization !== undefined) headers.authorization = options.authorization;
      else if (as !== null) headers.authorization = `Bearer ${tokens[as]}`;
      let payload: string | undefined;
      if (options.rawBody) {
        payload = options.rawBody.payload;
        headers['content-type'] = options.rawBody.contentType;
      } else if (options.body !== undefined) {
        payload = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      const res = await api.app.inject({ method, url, headers, remoteAddress: options.ip ?? '127.0.0.1', ...(payload !== undefined ? { payload } : {}) });
      const text = res.body;
      // JSON answers parsed; another content type (e.g. /metrics, text) comes back as { text }.
      const json = String(res.headers['content-type'] ?? '').includes('json');
      return { status: res.statusCode, body: text === '' ? {} : json ? JSON.parse(text) as Record<string, unknown> : { text }, headers: res.headers };
    },
    async close() {
      await api.close();
      await h.close();
    },
  };
}

/** Audit entries of one type. */
export async function auditOf(h: Harness, type: string) {
  return (await h.audit()).filter((e) => e.type === type);
}
