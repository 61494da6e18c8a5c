// The operations API (fastify): bearer-token scopes on every route, audited refusals, JSON errors from the catalogue, OpenAPI.
import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { TokenVerifier } from './auth.js';
import { authorize } from './authorize.js';
import { ApiError, errorSchema } from './errors.js';
import { API_PREFIX } from './paths.js';
import { registerCircuitRoutes } from './routes/circuits.js';
import { registerExposureRoutes } from './routes/exposures.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKillSwitchRoutes } from './routes/kill-switches.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerPairRoutes } from './routes/pairs.js';
import { routeOptions } from './routes/route.js';
import { circuitSchema, schemas } from './schemas.js';
import type { ApiDeps, RouteAccess } from './types.js';
import { dashboardPlugin } from '../dashboard/plugin.js';

export interface BuiltApi {
  app: FastifyInstance;
  /** Every API route registered (method and fastify path), HEAD and dashboard routes aside: checked against the OpenAPI document. */
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
  app.addHook('onRoute', function (route) {
    // Fail closed: a route that does not say who may call it is a bug, not a public route. A plugin scope
    // whose routes come from a library (Bull Board) gives them all one access by decorating routeAccessDefault.
    const access = route.config?.access ?? (this as FastifyInstance & { routeAccessDefault?: RouteAccess }).routeAccessDefault;
    if (!access) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
    route.config = { ...route.config, access };
    // The dashboard's pages are HTML for a browser, not API routes: they are not in the OpenAPI document.
    if (access.via === 'session') route.schema = { ...route.schema, hide: true };
    else for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
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
  app.addSchema(circuitSchema);
  const verifier = new TokenVerifier(config.tokens);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // Dashboard routes (via: session) are authorised by the dashboard's own hook, from its session cookie.
    if (access && access.scope !== 'public' && access.via !== 'session') request.principal = await authorize(deps, verifier, request, access.scope);
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
  registerCircuitRoutes(app, deps);
  registerOpsRoutes(app, deps, verifier);
  try {
    if (deps.config.dashboard.enabled) await app.register(dashboardPlugin(deps, verifier));
    for (const plugin of deps.plugins ?? []) await app.register(plugin);
    await app.ready();
  } catch (error) {
    // A plugin that fails to load (e.g. a route declaring no access) must not leave the plugins loaded
    // before it holding connections (Bull Board's queues): the process would never exit.
    await app.close().catch((closeError: unknown) => deps.log.warn({ err: closeError }, 'closing a half-built API failed'));
    throw error;
  }
  return { app, routes };
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
