// Exposures: the open review list, resolved ones, one entry, and resolving one (operate; the note and the token's name are audited).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NOTE_CHARS_MAX, operatorTextProblem } from '../../domain/operator.js';
import { ApiError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { API_PREFIX } from '../paths.js';
import { cursorQuery, identifierSchema, limitQuery, noteBody, schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { routeOptions } from './route.js';

const idParams = { type: 'object', required: ['id'], properties: { id: { ...identifierSchema, description: 'the review id: the arbId' } } } as const;

export function registerExposureRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { config } = deps;
  app.get(`${API_PREFIX}/exposures/open`, routeOptions({
    access: 'read',
    tags: ['exposures'],
    summary: 'open exposures awaiting review, oldest detection first (kept until resolved, whatever the exposure key\'s TTL)',
    description: `At most openExposuresMax (${config.openExposuresMax}) are listed; total counts them all.`,
    response: schemas.openExposures,
  }), async () => deps.reads.openExposures(config.openExposuresMax));

  app.get<{ Querystring: { cursor?: string; limit: number } }>(`${API_PREFIX}/exposures/resolved`, routeOptions({
    access: 'read',
    tags: ['exposures'],
    summary: 'resolved exposures with who resolved them, why and when (paginated; not in time order)',
    querystring: { type: 'object', additionalProperties: false, properties: { cursor: cursorQuery, limit: limitQuery(config.pageItemsMax, 100) } },
    response: schemas.resolvedExposures,
  }), async (request) => {
    const { cursor, limit } = request.query;
    const scan = cursor === undefined ? '0' : decodeCursor('resolved', cursor, { scan: 'string' }).scan;
    if (!/^\d+$/.test(scan)) throw new ApiError('invalid_cursor', 'the cursor is damaged');
    const page = await deps.reads.resolvedExposures(scan, limit);
    return { items: page.items, total: page.total, nextCursor: page.next === null ? null : encodeCursor('resolved', { scan: page.next }) };
  });

  app.get<{ Params: { id: string } }>(`${API_PREFIX}/exposures/:id`, routeOptions({
    access: 'read', tags: ['exposures'], summary: 'one exposure, open or resolved', params: idParams, response: schemas.exposure,
  }), async (request) => {
    const found = await deps.reads.exposure(request.params.id);
    if (!found) throw new ApiError('exposure_not_found', `no exposure ${request.params.id}`);
    return { id: request.params.id, ...found };
  });

  app.post<{ Params: { id: string }; Body: { note: string } }>(`${API_PREFIX}/exposures/:id/resolve`, routeOptions({
    access: 'operate',
    tags: ['exposures'],
    summary: 'resolve an exposure after review: off the open list, the betPairId\'s block lifted when none of its arbs is left open',
    description: 'The note and the token\'s name are written to the audit stream in the same Redis step (exposure_resolved).',
    params: idParams,
    body: noteBody,
    response: schemas.resolved,
  }), async (request) => resolveExposure(deps, request, request.params.id, request.body.note));
}

/**
 * Resolves an open exposure as the request's principal (the actor on the audit stream, with the note): the
 * JSON route and the dashboard's form both call this, so a resolution is checked and recorded one way.
 */
export async function resolveExposure(deps: ApiDeps, request: FastifyRequest, id: string, note: string) {
  const problem = operatorTextProblem('note', note, NOTE_CHARS_MAX);
  if (problem) throw new ApiError('invalid_request', problem, [problem]);
  const actor = request.principal?.name;
  if (!actor) throw new Error('invariant violated: an operate route without a principal');
  const found = await deps.reads.exposure(id);
  if (!found) throw new ApiError('exposure_not_found', `no exposure ${id}`);
  if (found.status === 'resolved' || !(await deps.store.resolveExposure(id, actor, note, deps.nowMs()))) {
    throw new ApiError('exposure_not_open', `exposure ${id} is already resolved`);
  }
  request.log.info({ exposureId: id, by: actor }, 'exposure resolved through the API');
  return { id, status: 'resolved' as const, resolvedBy: actor };
}
