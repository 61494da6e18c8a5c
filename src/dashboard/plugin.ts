// The operator's dashboard, served by the API process at /dashboard: login, pages (Now, Exposures, Controls,
// Results), live fragments for htmx, the forms that act (through the JSON API's own functions), Bull Board.
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../api/auth.js';
import { admit, assertUnderRefusalLimit } from '../api/authorize.js';
import { ApiError } from '../api/errors.js';
import type { ApiDeps } from '../api/types.js';
import { registerAssets } from './assets.js';
import { csrfGuard, crossSite, sessionGuard } from './guard.js';
import { errorPage, loginPage } from './layout.js';
import { registerPageRoutes } from './pages.js';
import { registerQueues, QUEUES_PATH } from './queues.js';
import { dashboardRoute, sendHtml } from './routes.js';
import { cookieHeader, LOGIN_CSRF_COOKIE, parseCookies, randomToken, SESSION_COOKIE, SessionStore, tokensMatch } from './session.js';

/** Our pages load scripts and styles from this origin only, are never framed, and send no referrer to another site. */
const pageSecurityHeaders = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer Chromium sends Origin: null on our own form posts.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

function formFields(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) if (!(name in fields) && name !== '__proto__') fields[name] = value;
  return fields;
}

export function dashboardPlugin(deps: ApiDeps, verifier: TokenVerifier): FastifyPluginAsync {
  return async (app) => {
    const sessions = new SessionStore(deps.reads.redis, deps.config.dashboard.sessionTtlMs);
    // Forms post urlencoded bodies; only inside the dashboard (the JSON API still takes JSON alone).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, formFields(String(body))));
    app.addHook('onRequest', sessionGuard(deps, verifier, sessions));
    app.addHook('preHandler', csrfGuard(deps));
    app.addHook('onSend', async (request, reply) => {
      if (!request.url.startsWith(QUEUES_PATH)) reply.headers(pageSecurityHeaders);
    });
    app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
    registerAssets(app);
    registerLogin(app, deps, verifier, sessions);
    registerPageRoutes(app, deps);
    await registerQueues(app, deps);
  };
}

function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = error instanceof ApiError || (error.statusCode !== undefined && error.statusCode < 500);
  const status = known ? error.statusCode ?? 500 : 500;
  if (!known) request.log.error({ err: error, route: request.routeOptions.url }, 'dashboard request failed');
  const message = known ? error.message : 'internal error (logged)';
  if (error instanceof ApiError) reply.headers(error.headers);
  if (request.headers['hx-request'] === 'true') return reply.code(status).type('text/plain; charset=utf-8').send(message);
  return sendHtml(reply, errorPage(status, message), status);
}

function registerLogin(app: FastifyInstance, deps: ApiDeps, verifier: TokenVerifier, sessions: SessionStore): void {
  const { secureCookie, sessionTtlMs } = deps.config.dashboard;
  const loginCsrfTtlMs = 3_600_000;
  const showLogin = (reply: FastifyReply, message: string | null, status = 200) => {
    const token = randomToken();
    reply.header('set-cookie', cookieHeader(LOGIN_CSRF_COOKIE, token, { maxAgeMs: loginCsrfTtlMs, secure: secureCookie }));
    return sendHtml(reply, loginPage(token, message), status);
  };

  app.get('/dashboard', dashboardRoute('public'), async (_request, reply) => reply.redirect('/dashboard/now', 303));

  app.get('/dashboard/login', dashboardRoute('public'), async (request, reply) => {
    const session = await sessions.get(parseCookies(request.headers.cookie).get(SESSION_COOKIE));
    if (session && verifier.names.some((p) => p.name === session.name)) return reply.redirect('/dashboard/now', 303);
    return showLogin(reply, null);
  });

  app.post<{ Body: Record<string, string> }>('/dashboard/login', dashboardRoute('public'), async (request, reply) => {
    // Before a session exists the form's token is double-submitted: the hidden field must equal the cookie.
    const cookies = parseCookies(request.headers.cookie);
    if (crossSite(request) || !tokensMatch(request.body?._csrf, cookies.get(LOGIN_CSRF_COOKIE))) {
      return showLogin(reply, 'The login form expired or did not come from this page; try again.', 403);
    }
    await assertUnderRefusalLimit(deps, request);
    const token = String(request.body?.token ?? '').trim();
    try {
      const principal = await admit(deps, request, verifier.authenticate(`Bearer ${token}`), 'read');
      const id = await sessions.create(principal, deps.nowMs());
      request.log.info({ by: principal.name, scope: principal.scope }, 'dashboard login');
      reply.header('set-cookie', [
        cookieHeader(SESSION_COOKIE, id, { maxAgeMs: sessionTtlMs, secure: secureCookie }),
        cookieHeader(LOGIN_CSRF_COOKIE, '', { maxAgeMs: 0, secure: secureCookie }),
      ]);
      return reply.redirect('/dashboard/now', 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.statusCode !== 401) throw error;
      return showLogin(reply, 'That token is not recognised.', 401);
    }
  });

  app.post('/dashboard/logout', dashboardRoute('read'), async (request, reply) => {
    await sessions.destroy(parseCookies(request.headers.cookie).get(SESSION_COOKIE));
    reply.header('set-cookie', cookieHeader(SESSION_COOKIE, '', { maxAgeMs: 0, secure: secureCookie }));
    return reply.redirect('/dashboard/login', 303);
  });
}
