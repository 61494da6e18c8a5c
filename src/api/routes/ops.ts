// Operations views: the caller's token, configured tokens (admin), an account's state, providers, P&L, alert deliveries.
import type { FastifyInstance } from 'fastify';
import { bucketQuantileMs, LATENCY_BUCKETS_MS, parseUtcDay, STATS_DAYS_MAX, utcDay, utcDays } from '../../domain/stats.js';
import type { ProviderCounters } from '../../store/stats.js';
import type { TokenVerifier } from '../auth.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ApiError } from '../errors.js';
import { API_PREFIX } from '../paths.js';
import { cursorQuery, dayQuery, identifierSchema, limitQuery, schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { routeOptions } from './route.js';

const dayMs = 86_400_000;
const dayRangeQuery = { type: 'object', additionalProperties: false, properties: { from: dayQuery, to: dayQuery } } as const;

export function registerOpsRoutes(app: FastifyInstance, deps: ApiDeps, verifier: TokenVerifier): void {
  app.get(`${API_PREFIX}/whoami`, routeOptions({
    access: 'read', tags: ['meta'], summary: 'the name and scope of the token used', response: schemas.whoami,
  }), async (request) => request.principal);

  app.get(`${API_PREFIX}/tokens`, routeOptions({
    access: 'admin', tags: ['meta'], summary: 'the configured tokens\' names and scopes (never digests)', response: schemas.tokens,
  }), async () => ({ tokens: verifier.names }));

  registerAccountRoute(app, deps);
  registerStatsRoutes(app, deps);
  registerAlertRoutes(app, deps);
}

function registerAccountRoute(app: FastifyInstance, deps: ApiDeps): void {
  type AccountParams = { whitelabel: string; provider: string; accountId: string };
  app.get<{ Params: AccountParams }>(`${API_PREFIX}/accounts/:whitelabel/:provider/:accountId`, routeOptions({
    access: 'read',
    tags: ['accounts'],
    summary: 'an account\'s cooldown (and the pair holding it), its placements in the rate-limit window, the kill switches that apply',
    params: { type: 'object', required: ['whitelabel', 'provider', 'accountId'], properties: { whitelabel: identifierSchema, provider: identifierSchema, accountId: identifierSchema } },
    response: schemas.account,
  }), async (request) => accountView(deps, request.params.whitelabel, request.params.provider, request.params.accountId));
}

/** An account's cooldown, rate-limit window and kill switches (the JSON route's answer; the dashboard shows it too). */
export async function accountView(deps: ApiDeps, whitelabel: string, provider: string, accountId: string) {
  const { placementsMax, windowMs } = deps.config.accountRateLimit;
  const state = await deps.reads.account(whitelabel, provider, accountId, windowMs);
  // Each pair counts once per leg account (preflight adds one entry per leg); full when placementsMax are in the window.
  const oldest = state.placementsAtMs[state.placementsAtMs.length - placementsMax];
  const freeInMs = state.placementsAtMs.length >= placementsMax && oldest !== undefined ? Math.max(0, oldest + windowMs - state.nowMs) : 0;
  return {
    whitelabel, provider, accountId,
    cooldown: state.cooldown,
    rateLimit: { placementsMax, windowMs, placementsInWindow: state.placementsAtMs.length, placementsAtMs: state.placementsAtMs, freeInMs },
    killSwitches: state.killSwitches,
  };
}

/** The days of a from/to query (UTC, both included); `defaultDays` ending today when not given. */
function dayRange(deps: ApiDeps, query: { from?: string; to?: string }, defaultDays: number): { from: string; to: string; days: string[] } {
  const toMs = query.to === undefined ? deps.nowMs() : parseUtcDay(query.to);
  const fromMs = query.from === undefined ? (toMs ?? 0) - (defaultDays - 1) * dayMs : parseUtcDay(query.from);
  if (toMs === null || fromMs === null) throw new ApiError('invalid_request', 'from and to must be calendar days, YYYY-MM-DD');
  const days = utcDays(fromMs, toMs);
  if (days === null) throw new ApiError('invalid_request', `from must not be after to, and at most ${STATS_DAYS_MAX} days apart`);
  return { from: utcDay(fromMs), to: utcDay(toMs), days };
}

function providerView(c: ProviderCounters) {
  const total = Object.values(c.placements).reduce((a, b) => a + b, 0);
  return {
    provider: c.provider,
    placements: { total, ...c.placements },
    acceptanceRatio: total === 0 ? null : c.placements.accepted / total,
    latencyMs: {
      mean: total === 0 ? null : c.latencyMsSum / total,
      p50: bucketQuantileMs(c.latencyBuckets, 0.5),
      p95: bucketQuantileMs(c.latencyBuckets, 0.95),
      p99: bucketQuantileMs(c.latencyBuckets, 0.99),
      bucketsMs: [...LATENCY_BUCKETS_MS],
      counts: c.latencyBuckets,
    },
  };
}

function registerStatsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { from?: string; to?: string } }>(`${API_PREFIX}/providers`, routeOptions({
    access: 'read',
    tags: ['statistics'],
    summary: 'per provider: placement calls by first answer, acceptance ratio, call latency (UTC days; default today)',
    description: 'Counted by every worker as its bookmaker calls return. A call answered in doubt and found accepted by a later lookup stays counted in_doubt.',
    querystring: dayRangeQuery,
    response: schemas.providers,
  }), async (request) => providersView(deps, request.query));

  app.get<{ Querystring: { from?: string; to?: string } }>(`${API_PREFIX}/pnl`, routeOptions({
    access: 'read',
    tags: ['statistics'],
    summary: 'realised P&L of settled pairs per UTC day of settlement and currency, minor units (default: the last 7 days)',
    description: 'Projected from the audit stream\'s arb_settled entries (each counted once); a pair whose result is unknown (timeout) is counted in pnlUnknown, not as 0. A re-settlement (arb_resettled) is booked as a correction on the day it was recorded: pnlMinor, pnlUnknown and exposures move by the new result minus the old (so a day\'s figure can be negative), corrections counts them, pairs does not change.',
    querystring: dayRangeQuery,
    response: schemas.pnl,
  }), async (request) => pnlView(deps, request.query));
}

/** Per provider over a day range (default today): placement calls by first answer, acceptance ratio, latency. */
export async function providersView(deps: ApiDeps, query: { from?: string; to?: string }) {
  const range = dayRange(deps, query, 1);
  const counters = await deps.stats.providerCounters(range.days);
  return { from: range.from, to: range.to, providers: counters.map(providerView) };
}

/** Realised P&L per day and currency over a day range (default the last 7 days). */
export async function pnlView(deps: ApiDeps, query: { from?: string; to?: string }) {
  const range = dayRange(deps, query, 7);
  const [days, projectedThrough] = await Promise.all([deps.stats.pnl(range.days), deps.stats.pnlCursor()]);
  return { from: range.from, to: range.to, projectedThrough, days };
}

function registerAlertRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { config } = deps;
  const pageQuery = { type: 'object', additionalProperties: false, properties: { cursor: cursorQuery, limit: limitQuery(config.pageItemsMax, 100) } } as const;
  app.get<{ Querystring: { cursor?: string; limit: number } }>(`${API_PREFIX}/alerts/deliveries`, routeOptions({
    access: 'read',
    tags: ['alerts'],
    summary: 'the alerter\'s delivery attempts, newest first (stream bet-executor:alerts:deliveries; empty without an alerter)',
    querystring: pageQuery,
    response: schemas.deliveries,
  }), async (request) => {
    const before = request.query.cursor === undefined ? null : decodeCursor('deliveries', request.query.cursor, { id: 'string' }).id;
    if (before !== null && !/^\d+-\d+$/.test(before)) throw new ApiError('invalid_cursor', 'the cursor is damaged');
    const page = await deps.reads.alertDeliveries(before, request.query.limit);
    return { items: page.items, nextCursor: page.next === null ? null : encodeCursor('deliveries', { id: page.next }) };
  });

  app.get<{ Querystring: { cursor?: string; limit: number } }>(`${API_PREFIX}/alerts/dead`, routeOptions({
    access: 'read',
    tags: ['alerts'],
    summary: 'dead-lettered alerts, newest first (list bet-executor:alerts:dead; empty without an alerter)',
    querystring: pageQuery,
    response: schemas.deadAlerts,
  }), async (request) => {
    const offset = request.query.cursor === undefined ? 0 : decodeCursor('dead', request.query.cursor, { offset: 'number' }).offset;
    if (offset < 0) throw new ApiError('invalid_cursor', 'the cursor is damaged');
    const page = await deps.reads.deadAlerts(offset, request.query.limit);
    const next = offset + page.items.length;
    return { items: page.items, total: page.total, nextCursor: next < page.total && page.items.length > 0 ? encodeCursor('dead', { offset: next }) : null };
  });
}
