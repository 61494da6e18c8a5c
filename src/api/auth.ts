// Bearer tokens: creation, SHA-256 digests compared in constant time, and the scope order read ⊂ operate ⊂ admin.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Scope, TokenConfig } from './config.js';

/** Who made a request: the token's name (the actor on the audit stream) and its scope. */
export interface Principal {
  name: string;
  scope: Scope;
}

const scopeRank: Record<Scope, number> = { read: 1, operate: 2, admin: 3 };

/** admin ⊇ operate ⊇ read. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return scopeRank[held] >= scopeRank[needed];
}

/** Tokens carry a prefix so that a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'bet_';
/** Longest Authorization header value considered; anything longer is refused before hashing. */
const tokenCharsMax = 256;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A new random token (256 bits) and its config entry; the token is shown once and never stored. */
export function createToken(name: string, scope: Scope): { token: string; entry: TokenConfig } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, entry: { name, scope, sha256: sha256Hex(token) } };
}

export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown_token' };

/**
 * Checks an Authorization header against the configured digests. The presented token is hashed and
 * compared with every digest by timingSafeEqual, without stopping at a match, so the time taken says
 * neither whether nor where a token matched.
 */
export class TokenVerifier {
  private readonly digests: Array<{ digest: Buffer; principal: Principal }>;

  constructor(tokens: readonly TokenConfig[]) {
    this.digests = tokens.map((t) => ({ digest: Buffer.from(t.sha256, 'hex'), principal: { name: t.name, scope: t.scope } }));
  }

  get names(): Principal[] {
    return this.digests.map((d) => d.principal);
  }

  authenticate(header: string | undefined): Authentication {
    if (header === undefined || header === '') return { ok: false, reason: 'missing' };
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    const token = match?.[1];
    if (token === undefined || token.length > tokenCharsMax) return { ok: false, reason: 'malformed' };
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let found: Principal | null = null;
    for (const { digest, principal } of this.digests) {
      if (timingSafeEqual(presented, digest) && found === null) found = principal;
    }
    return found ? { ok: true, principal: found } : { ok: false, reason: 'unknown_token' };
  }
}
