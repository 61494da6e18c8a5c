// Who may make a request: the refusal limit per client address, then the credential's principal and its scope; every 401 and 403 counted and audited.
import type { FastifyRequest } from 'fastify';
import { scopeAllows, type Authentication, type Principal, type TokenVerifier } from './auth.js';
import type { Scope } from './config.js';
import { ApiError } from './errors.js';
import type { ApiDeps } from './types.js';

/** A bearer-token request: the refusal limit, then the Authorization header's token and its scope. */
export async function authorize(deps: ApiDeps, verifier: TokenVerifier, request: FastifyRequest, needed: Scope): Promise<Principal> {
  await assertUnderRefusalLimit(deps, request);
  return admit(deps, request, verifier.authenticate(request.headers.authorization), needed);
}

/** An address past its refusal limit gets 429 before its credential is even looked at. */
export async function assertUnderRefusalLimit(deps: ApiDeps, request: FastifyRequest): Promise<void> {
  const refused = await deps.ops.refusedRequests(request.ip);
  if (refused.failures >= deps.config.authFailures.failuresMax) throw tooManyRefusals(refused.remainingMs);
}

/**
 * The principal of an authentication when its scope allows `needed`; else 401 or 403, counted against the
 * address and audited while the address is under its limit. The dashboard's login and session checks use it too.
 */
export async function admit(deps: ApiDeps, request: FastifyRequest, auth: Authentication, needed: Scope): Promise<Principal> {
  if (!auth.ok) {
    await recordRefusal(deps, request, { status: 401, reason: auth.reason, neededScope: needed });
    const code = auth.reason === 'unknown_token' ? 'invalid_token' : 'unauthenticated';
    const message = auth.reason === 'missing' ? 'an Authorization: Bearer TOKEN header is required' : auth.reason === 'malformed' ? 'the Authorization header is not "Bearer TOKEN"' : 'the token is not recognised';
    throw new ApiError(code, message, undefined, { 'www-authenticate': 'Bearer realm="bet-executor"' });
  }
  const { principal } = auth;
  if (!scopeAllows(principal.scope, needed)) {
    await recordRefusal(deps, request, { status: 403, reason: 'scope', tokenName: principal.name, tokenScope: principal.scope, neededScope: needed });
    throw new ApiError('forbidden', `token ${principal.name} has scope ${principal.scope}; this request needs ${needed}`);
  }
  return principal;
}

/** Counts and audits one refused request (type api_request_refused) with what was refused and why. */
export async function recordRefusal(deps: ApiDeps, request: FastifyRequest, what: Record<string, unknown>): Promise<void> {
  const data = { ...what, ip: request.ip, method: request.method, route: request.routeOptions.url ?? null, atMs: deps.nowMs() };
  const counted = await deps.ops.recordRefusal(request.ip, deps.config.authFailures, 'api_request_refused', data);
  if (counted.failures === deps.config.authFailures.failuresMax) deps.log.warn({ ip: request.ip, failures: counted.failures }, 'API refusals limit reached for a client address');
}

function tooManyRefusals(remainingMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new ApiError('too_many_failed_attempts', `too many refused requests from this address; retry in ${seconds} s`, undefined, { 'retry-after': String(seconds) });
}
