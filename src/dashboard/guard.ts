// Who may use a dashboard route: the session behind the cookie (its token still configured), its scope, and on
// every state-changing request the same-site check and the session's CSRF token. Refusals are counted and audited
// as the bearer API's are.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal, TokenVerifier } from '../api/auth.js';
import { admit, assertUnderRefusalLimit, recordRefusal } from '../api/authorize.js';
import { ApiError } from '../api/errors.js';
import type { ApiDeps } from '../api/types.js';
import { parseCookies, SESSION_COOKIE, tokensMatch, type Session, type SessionStore } from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of a session route (set by the guard). */
    dashboardSession?: Session;
  }
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session's principal while its token is still configured with the same scope (a removed token ends its sessions). */
function principalOf(session: Session, verifier: TokenVerifier): Principal | null {
  const configured = verifier.names.find((p) => p.name === session.name);
  return configured && configured.scope === session.scope ? configured : null;
}

function isHtmx(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true';
}

/**
 * onRequest of session routes: no live session → a page is redirected to the login page (htmx is told to
 * redirect the whole page), anything else is refused 401 and counted; then the route's scope is checked.
 */
export function sessionGuard(deps: ApiDeps, verifier: TokenVerifier, sessions: SessionStore) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access;
    if (!access || access.via !== 'session' || access.scope === 'public') return;
    const id = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    const session = await sessions.get(id);
    const principal = session ? principalOf(session, verifier) : null;
    if (!session || !principal) {
      if (session) await sessions.destroy(id);
      if (safeMethods.has(request.method)) {
        if (isHtmx(request)) return void reply.code(401).header('hx-redirect', '/dashboard/login').send('');
        return void reply.redirect('/dashboard/login', 303);
      }
      await assertUnderRefusalLimit(deps, request);
      await recordRefusal(deps, request, { status: 401, reason: 'no_session', neededScope: access.scope, via: 'dashboard' });
      throw new ApiError('no_session', 'log in first: this request has no live dashboard session');
    }
    request.dashboardSession = session;
    request.principal = await admit(deps, request, { ok: true, principal }, access.scope);
  };
}

/** The request comes from another site (browsers send Sec-Fetch-Site; Origin when present must be this host). */
export function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/**
 * preHandler of state-changing session routes (after the body is parsed): refused 403 when sent from
 * another site or without the session's CSRF token (form field _csrf, or the x-csrf-token header htmx sends).
 */
export function csrfGuard(deps: ApiDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    if (safeMethods.has(request.method)) return;
    const session = request.dashboardSession;
    if (!session) return; // public routes (login) check their own token
    const body = request.body as Record<string, unknown> | undefined;
    const presented = typeof body?._csrf === 'string' ? body._csrf : request.headers['x-csrf-token'];
    const sameSite = !crossSite(request);
    if (sameSite && tokensMatch(typeof presented === 'string' ? presented : undefined, session.csrfToken)) return;
    await recordRefusal(deps, request, { status: 403, reason: sameSite ? 'csrf_token' : 'cross_site', tokenName: session.name, via: 'dashboard' });
    throw new ApiError('csrf_refused', sameSite ? 'this form is not from your session (CSRF token missing or wrong): reload the page and try again' : 'a request from another site is refused');
  };
}
