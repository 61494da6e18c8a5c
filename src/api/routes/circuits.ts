// Circuit breakers: every bookmaker's and account's circuit, and forcing one open or closed (operate; the reason
// and the token's name are audited with the change in the same Redis step, src/store/lua/circuit_force.lua).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseCircuitScope } from '../../domain/circuit.js';
import { operatorTextProblem, REASON_CHARS_MAX } from '../../domain/operator.js';
import { ApiError } from '../errors.js';
import { API_PREFIX } from '../paths.js';
import { reasonBody, schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { routeOptions } from './route.js';

const scopeParams = {
  type: 'object',
  required: ['scope'],
  properties: { scope: { type: 'string', maxLength: 200, description: 'provider:PROVIDER or account:PROVIDER:ACCOUNT' } },
} as const;

type ScopedWrite = { Params: { scope: string }; Body: { reason: string } };

export function registerCircuitRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get(`${API_PREFIX}/circuits`, routeOptions({
    access: 'read',
    tags: ['circuits'],
    summary: 'circuit breakers per bookmaker and account: state, why, and the figures of the last change',
    description: 'A circuit appears once it counted an outcome or was forced; one not listed is closed. Open and half-open circuits refuse new pairs needing them (arb_blocked, reason circuit_open).',
    response: schemas.circuits,
  }), async () => deps.circuits.list());

  const writes = [
    { action: 'open', summary: 'force a circuit open: no new pair needing it starts, it is never probed, until forced closed (hedges already owed are still attempted)' },
    { action: 'close', summary: 'force a circuit closed: pairs needing it start again and it can trip again (changed: false when it was closed and not forced)' },
  ] as const;
  for (const write of writes) {
    app.route<ScopedWrite>({
      method: 'POST',
      url: `${API_PREFIX}/circuits/:scope/${write.action}`,
      ...routeOptions({ access: 'operate', tags: ['circuits'], summary: write.summary, params: scopeParams, body: reasonBody, response: schemas.circuitChange }),
      handler: async (request) => forceCircuit(deps, request, write.action, request.params.scope, request.body.reason, 'api'),
    });
  }
}

/** Forces a circuit as the request's principal: the JSON routes and the dashboard's forms both call this. */
export async function forceCircuit(deps: ApiDeps, request: FastifyRequest, action: 'open' | 'close', scopeText: string, reason: string, via: 'api' | 'dashboard') {
  const parsed = parseCircuitScope(scopeText);
  if (!parsed.ok) throw new ApiError('invalid_scope', parsed.error);
  const problem = operatorTextProblem('reason', reason, REASON_CHARS_MAX);
  if (problem) throw new ApiError('invalid_request', problem, [problem]);
  const by = request.principal?.name;
  if (!by) throw new Error('invariant violated: an operate route without a principal');
  const answer = await deps.circuits.force(action, parsed.scope, reason, { by, via });
  request.log.warn({ circuit: scopeText, by, action, reply: answer.reply, via }, 'circuit forced through the API');
  return { scope: scopeText, state: answer.state, generation: answer.generation, changed: answer.reply === 'ok' };
}
