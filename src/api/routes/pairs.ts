// Pairs: a filtered, paginated list (newest first), one pair with its journal, review and audit trail.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { cursorQuery, identifierSchema, limitQuery, schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { API_PREFIX } from '../paths.js';
import { parseTimeQuery, routeOptions, timeQuery } from './route.js';
import { auditWindow, pairSummary } from '../views.js';
import { pairTransitions, type PairDoc } from '../../domain/pair.js';

interface PairsQuery {
  state?: string;
  from?: string;
  to?: string;
  arbId?: string;
  betPairId?: string;
  whitelabel?: string;
  provider?: string;
  accountId?: string;
  limit: number;
  cursor?: string;
}

const pairStates = Object.keys(pairTransitions);
const pairsPath = `${API_PREFIX}/pairs`;
const arbIdParams = { type: 'object', required: ['arbId'], properties: { arbId: identifierSchema } } as const;
const auditPageItemsDefault = 200;

export function registerPairRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { config } = deps;
  app.get<{ Querystring: PairsQuery }>(pairsPath, routeOptions({
    access: 'read',
    tags: ['pairs'],
    summary: 'pairs, newest first (by when a worker first took them), filtered and paginated',
    description: `A page examines at most pairScanMax (${config.pairScanMax}) pairs: a filter that matches rarely can return fewer items than asked with a nextCursor; follow it until it is null.`,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        state: { type: 'string', pattern: `^(${pairStates.join('|')})(,(${pairStates.join('|')}))*$`, description: 'one state or several, comma-separated' },
        from: timeQuery,
        to: timeQuery,
        arbId: identifierSchema,
        betPairId: identifierSchema,
        whitelabel: identifierSchema,
        provider: { ...identifierSchema, description: 'either leg\'s provider' },
        accountId: { ...identifierSchema, description: 'either leg\'s account' },
        limit: limitQuery(config.pageItemsMax, 50),
        cursor: cursorQuery,
      },
    },
    response: schemas.pairPage,
  }), async (request) => {
    const q = request.query;
    const after = q.cursor === undefined ? null : decodeCursor('pairs', q.cursor, { atMs: 'number', arbId: 'string' });
    const fromMs = parseTimeQuery('from', q.from);
    const toMs = parseTimeQuery('to', q.to);
    const page = await deps.reads.listPairs({
      ...(q.state ? { states: new Set(q.state.split(',')) } : {}),
      ...(fromMs !== undefined ? { fromMs } : {}),
      ...(toMs !== undefined ? { toMs } : {}),
      ...(q.arbId ? { arbId: q.arbId } : {}),
      ...(q.betPairId ? { betPairId: q.betPairId } : {}),
      ...(q.whitelabel ? { whitelabel: q.whitelabel } : {}),
      ...(q.provider ? { provider: q.provider } : {}),
      ...(q.accountId ? { accountId: q.accountId } : {}),
      limit: q.limit,
      after: after ? { atMs: after.atMs, arbId: after.arbId } : null,
      scanMax: config.pairScanMax,
    });
    return {
      items: page.rows.map((row) => pairSummary(row.doc, row.state, row.rev)),
      nextCursor: page.next ? encodeCursor('pairs', { atMs: page.next.atMs, arbId: page.next.arbId }) : null,
      scanned: page.scanned,
    };
  });

  app.get<{ Params: { arbId: string } }>(`${pairsPath}/:arbId`, routeOptions({
    access: 'read',
    tags: ['pairs'],
    summary: 'one pair: its journal, settlement results, review entry and the first page of its audit trail',
    params: arbIdParams,
    response: schemas.pairDetail,
  }), async (request) => {
    const { arbId } = request.params;
    const row = await deps.reads.pair(arbId);
    if (!row) throw new ApiError('pair_not_found', `no journal for ${arbId}`);
    const [settlementResults, review, audit] = await Promise.all([
      deps.reads.settlementResults(arbId),
      deps.reads.exposure(arbId),
      auditPage(deps, arbId, row.doc, row.state, null, auditPageItemsDefault),
    ]);
    return {
      pair: pairSummary(row.doc, row.state, row.rev),
      journal: { rev: row.rev, state: row.state, jobId: row.jobId, doc: row.doc },
      settlementResults,
      review,
      audit,
    };
  });

  app.get<{ Params: { arbId: string }; Querystring: { cursor?: string; limit: number } }>(`${pairsPath}/:arbId/audit`, routeOptions({
    access: 'read',
    tags: ['pairs'],
    summary: 'a pair\'s audit trail (every bookmaker request and answer, transition, settlement), oldest first, paginated',
    description: `The audit stream holds every pair's entries: a page examines at most auditScanMax (${config.auditScanMax}) of them inside the pair's lifetime and may return fewer items with a nextCursor.`,
    params: arbIdParams,
    querystring: { type: 'object', additionalProperties: false, properties: { cursor: cursorQuery, limit: limitQuery(config.pageItemsMax, auditPageItemsDefault) } },
    response: { $ref: 'AuditPage#' },
  }), async (request) => {
    const { arbId } = request.params;
    const row = await deps.reads.pair(arbId);
    if (!row) throw new ApiError('pair_not_found', `no journal for ${arbId}`);
    const after = request.query.cursor === undefined ? null : decodeCursor('audit', request.query.cursor, { arbId: 'string', id: 'string' });
    if (after && (after.arbId !== arbId || !/^\d+-\d+$/.test(after.id))) throw new ApiError('invalid_cursor', `the cursor is not one of ${arbId}'s audit pages`);
    return auditPage(deps, arbId, row.doc, row.state, after?.id ?? null, request.query.limit);
  });
}

/** One page of a pair's audit trail inside its lifetime (the dashboard's pair page shows the first). */
export async function auditPage(deps: ApiDeps, arbId: string, doc: PairDoc, state: string, afterId: string | null, limit: number) {
  const window = auditWindow(doc, state);
  const fromId = afterId === null ? String(window.fromMs) : `(${afterId}`;
  const toId = window.toMs === null ? '+' : String(window.toMs);
  const page = await deps.reads.pairAudit(arbId, fromId, toId, limit, deps.config.auditScanMax);
  return { entries: page.rows, nextCursor: page.next ? encodeCursor('audit', { arbId, id: page.next }) : null };
}
