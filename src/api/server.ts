// The operations API (fastify): bearer-token scopes on every route, audited refusals, JSON errors from the catalogue, OpenAPI.
import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { scopeAllows, TokenVerifier, type Principal } from './auth.js';
import type { Scope } from './config.js';
import { ApiError, errorSchema } from './errors.js';
import { API_PREFIX } from './paths.js';
import { registerExposureRoutes } from './routes/exposures.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKillSwitchRoutes } from './routes/kill-switches.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerPairRoutes } from './routes/pairs.js';
import { routeOptions } from './routes/route.js';
import { schemas } from './schemas.js';
import type { ApiDeps } from './types.js';

export interface BuiltApi {
  app: FastifyInstance;
  /** Every route registered (method and fastify path), HEAD routes aside: checked against the OpenAPI document. */
  routes: Array<{ method: string; url: string }>;
}

export async function buildApi(deps: ApiDeps): Promise<BuiltApi> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Request lines are off: the dashboard polls; failures are logged by the error handler, writes by their routes.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  // Bodies are JSON or nothing: a text/plain body is refused (415) instead of reaching a schema as a string.
  app.removeContentTypeParser('text/plain');
  const routes: BuiltApi['routes'] = [];
  app.addHook('onRoute', (route) => {
    // Fail closed: a route that does not say who may call it is a bug, not a public route.
    if (!route.config?.access) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'bet-executor operations API', version: '1', description: 'Bearer tokens with scopes read ⊂ operate ⊂ admin; errors carry a stable code (README: API errors).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.addSchema(errorSchema);
  app.addSchema(schemas.auditPage);
  const verifier = new TokenVerifier(config.tokens);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access && access.scope !== 'public') request.principal = await authorize(deps, verifier, request, access.scope);
  });
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(toApiError(error), error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`), null, request, reply));

  registerHealthRoutes(app, deps);
  app.get(`${API_PREFIX}/openapi.json`, routeOptions({
    access: 'public', tags: ['meta'], summary: 'this OpenAPI document (OpenAPI 3.1)', response: { type: 'object', additionalProperties: true },
  }), async () => app.swagger());
  registerPairRoutes(app, deps);
  registerExposureRoutes(app, deps);
  registerKillSwitchRoutes(app, deps);
  registerOpsRoutes(app, deps, verifier);
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  await app.ready();
  return { app, routes };
}

/**
 * Authenticates and authorises one request. An address past its refusal limit gets 429 before its token is
 * even looked at; each 401 and 403 is counted, and audited while the address is under the limit.
 */
async function authorize(deps: ApiDeps, verifier: TokenVerifier, request: FastifyRequest, needed: Scope): Promise<Principal> {
  const limit = deps.config.authFailures;
  const refused = await deps.ops.refusedRequests(request.ip);
  if (refused.failures >= limit.failuresMax) throw tooManyRefusals(refused.remainingMs);
  const auth = verifier.authenticate(request.headers.authorization);
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

async function recordRefusal(deps: ApiDeps, request: FastifyRequest, what: Record<string, unknown>): Promise<void> {
  const data = { ...what, ip: request.ip, method: request.method, route: request.routeOptions.url ?? null, atMs: deps.nowMs() };
  const counted = await deps.ops.recordRefusal(request.ip, deps.config.authFailures, 'api_request_refused', data);
  if (counted.failures === deps.config.authFailures.failuresMax) deps.log.warn({ ip: request.ip, failures: counted.failures }, 'API refusals limit reached for a client address');
}

function tooManyRefusals(remainingMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return new ApiError('too_many_failed_attempts', `too many refused requests from this address; retry in ${seconds} s`, undefined, { 'retry-after': String(seconds) });
}

const bodyErrors: Record<string, ApiError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

/** The catalogue error an exception stands for. */
export function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const details = fastifyError.validation.map((v) => `${fastifyError.validationContext ?? 'request'}${v.instancePath} ${v.message ?? 'is invalid'}`);
    return new ApiError('invalid_request', `invalid ${fastifyError.validationContext ?? 'request'}`, details);
  }
  const mapped = fastifyError.code ? bodyErrors[fastifyError.code] : undefined;
  if (mapped) return new ApiError(mapped, fastifyError.message);
  if (error instanceof SyntaxError) return new ApiError('invalid_json', 'the body is not JSON');
  if (isRedisError(error)) return new ApiError('redis_unavailable', 'Redis did not answer; nothing was changed');
  return new ApiError('internal_error', 'internal error (logged)');
}

function isRedisError(error: Error): boolean {
  return ['ReplyError', 'MaxRetriesPerRequestError', 'AbortError'].includes(error.name)
    || /Connection is closed|Command timed out|ECONNREFUSED|Stream isn't writeable|enableOfflineQueue/.test(error.message);
}

function sendError(answer: ApiError, cause: Error | null, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (answer.statusCode >= 500) request.log.error({ err: cause, route: request.routeOptions.url, code: answer.code }, 'API request failed');
  return reply.code(answer.statusCode).headers(answer.headers).send({
    statusCode: answer.statusCode,
    code: answer.code,
    error: STATUS_CODES[answer.statusCode] ?? 'Error',
    message: answer.message,
    ...(answer.details ? { details: answer.details } : {}),
  });
}
