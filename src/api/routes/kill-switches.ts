// Kill switches: the engaged ones, and setting or clearing one (operate; reason and token name audited with the change).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { operatorTextProblem, parseKillScope, REASON_CHARS_MAX, type KillScope } from '../../domain/operator.js';
import { ApiError } from '../errors.js';
import { API_PREFIX } from '../paths.js';
import { reasonBody, schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { routeOptions } from './route.js';

const scopeParams = {
  type: 'object',
  required: ['scope'],
  properties: { scope: { type: 'string', maxLength: 300, description: 'global, provider:PROVIDER or account:WHITELABEL:PROVIDER:ACCOUNT' } },
} as const;

type ScopedWrite = { Params: { scope: string }; Body: { reason: string } };

export function registerKillSwitchRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(`${API_PREFIX}/kill-switches`, routeOptions({
    access: 'read',
    tags: ['kill switches'],
    summary: 'engaged kill switches with their reason, who set them and when',
    description: 'Lists every switch set through the API or the CLI, and the global switch however it was set.',
    response: schemas.killSwitches,
  }), async () => ({ items: await deps.ops.killSwitches() }));

  const writes = [
    { method: 'PUT', action: 'set', engaged: true, summary: 'engage a kill switch: no new pair on its scope executes (an engaged one gets the new reason)' },
    { method: 'DELETE', action: 'clear', engaged: false, summary: 'release a kill switch (changed: false when it was not set; nothing is recorded then)' },
  ] as const;
  for (const write of writes) {
    app.route<ScopedWrite>({
      method: write.method,
      url: `${API_PREFIX}/kill-switches/:scope`,
      ...routeOptions({ access: 'operate', tags: ['kill switches'], summary: write.summary, params: scopeParams, body: reasonBody, response: schemas.killSwitchChange }),
      handler: async (request) => changeKillSwitch(deps, request, write.action, request.params.scope, request.body.reason, 'api'),
    });
  }
}

/**
 * Sets or clears a kill switch as the request's principal (who and why audited in the same Redis step): the
 * JSON routes and the dashboard's forms both call this; `via` says which one the audit entry came through.
 */
export async function changeKillSwitch(deps: ApiDeps, request: FastifyRequest, action: 'set' | 'clear', scopeText: string, reasonText: string, via: 'api' | 'dashboard') {
  const { scope, reason, actor } = writeOf(scopeText, reasonText, request.principal?.name);
  const change = await deps.ops.changeKillSwitch(action, scope, reason, { by: actor, via }, deps.nowMs());
  request.log.warn({ killSwitch: change.key, by: actor, action, changed: change.changed, via }, 'kill switch changed through the API');
  return { ...change, engaged: action === 'set' };
}

function writeOf(scopeText: string, reason: string, actor: string | undefined): { scope: KillScope; reason: string; actor: string } {
  const parsed = parseKillScope(scopeText);
  if (!parsed.ok) throw new ApiError('invalid_scope', parsed.error);
  const problem = operatorTextProblem('reason', reason, REASON_CHARS_MAX);
  if (problem) throw new ApiError('invalid_request', problem, [problem]);
  if (!actor) throw new Error('invariant violated: an operate route without a principal');
  return { scope: parsed.scope, reason, actor };
}
