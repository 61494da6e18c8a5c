// Dashboard sessions: a random id in an HTTP-only SameSite=Strict cookie, the session itself in Redis under a
// digest of the id with a TTL (who logged in, their scope, the CSRF token of their forms).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sha256Hex, type Principal } from '../api/auth.js';
import { SCOPES } from '../api/config.js';

export const SESSION_COOKIE = 'be_session';
/** The login form's CSRF token, double-submitted (cookie and hidden field) before a session exists. */
export const LOGIN_CSRF_COOKIE = 'be_login_csrf';
export const DASHBOARD_PATH = '/dashboard';

export interface Session extends Principal {
  /** The synchronizer token every form and htmx request of this session carries. */
  csrfToken: string;
  createdAtMs: number;
}

/** Longest cookie value looked at: ids are 43 characters; anything longer is not ours. */
const idCharsMax = 128;

/** Sessions live under be:api:session:* (the API's Redis user may write be:api:*; see ops/redis/users.acl). */
function sessionKey(id: string): string {
  // Redis holds a digest of the id: someone who can read Redis cannot take over a session with what they read.
  return `be:api:session:${sha256Hex(id)}`;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export class SessionStore {
  constructor(private readonly redis: Redis, private readonly ttlMs: number) {}

  /** A new session for the principal; returns its id (the cookie value). SET NX: an id is never reused. */
  async create(principal: Principal, nowMs: number): Promise<string> {
    const id = randomToken();
    const session: Session = { name: principal.name, scope: principal.scope, csrfToken: randomToken(), createdAtMs: nowMs };
    const ok = await this.redis.set(sessionKey(id), JSON.stringify(session), 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') throw new Error('invariant violated: a fresh random session id already exists');
    return id;
  }

  /** The session of a cookie value, or null (none, expired, logged out, unreadable). */
  async get(id: string | undefined): Promise<Session | null> {
    if (id === undefined || id.length === 0 || id.length > idCharsMax || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
    const json = await this.redis.get(sessionKey(id));
    if (json === null) return null;
    try {
      const parsed = JSON.parse(json) as Partial<Session>;
      if (typeof parsed.name !== 'string' || typeof parsed.csrfToken !== 'string' || !SCOPES.includes(parsed.scope as never)) return null;
      return parsed as Session;
    } catch {
      return null;
    }
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined && id.length > 0 && id.length <= idCharsMax) await this.redis.del(sessionKey(id));
  }
}

/** Constant-time comparison of two tokens (false when either is missing or the lengths differ). */
export function tokensMatch(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a.length === 0) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Cookies of a request (the first value of each name). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** A Set-Cookie value: HTTP-only, SameSite=Strict, on the dashboard's path; Secure when asked; maxAgeMs 0 deletes it. */
export function cookieHeader(name: string, value: string, options: { maxAgeMs: number; secure: boolean }): string {
  const parts = [`${name}=${value}`, `Path=${DASHBOARD_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(options.maxAgeMs / 1000)}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
