// Bearer tokens and scopes on every route: 401 and 403 audited, refused addresses rate-limited, digests never shown.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken, scopeAllows, sha256Hex, TokenVerifier } from '../../src/api/auth.js';
import { parseApiConfig, SCOPES } from '../../src/api/config.js';
import { auditOf, createApiRig, tokenNames, type ApiRig } from './support.js';

describe('tokens', () => {
  it('are random, prefixed, and configured by their SHA-256 digest only', () => {
    const a = createToken('alice', 'read');
    const b = createToken('alice', 'read');
    assert.notEqual(a.token, b.token);
    assert.match(a.token, /^bet_[A-Za-z0-9_-]{43}$/);
    assert.equal(a.entry.sha256, sha256Hex(a.token));
    assert.ok(!JSON.stringify(a.entry).includes(a.token));
  });

  it('are recognised among many, and neither a digest, a prefix nor an over-long value passes', () => {
    const made = Array.from({ length: 50 }, (_, i) => createToken(`t${i}`, SCOPES[i % 3] ?? 'read'));
    const verifier = new TokenVerifier(made.map((m) => m.entry));
    const hit = verifier.authenticate(`Bearer ${made[37]?.token ?? ''}`);
    assert.deepEqual(hit, { ok: true, principal: { name: 't37', scope: 'operate' } });
    const token = made[0]?.token ?? '';
    for (const [header, reason] of [
      [undefined, 'missing'], ['', 'missing'], [`bearer ${token}`, 'malformed'], [`Basic ${token}`, 'malformed'], [`Bearer  ${token}`, 'malformed'],
      [`Bearer ${token} x`, 'malformed'], [`Bearer ${'a'.repeat(257)}`, 'malformed'],
      [`Bearer ${made[0]?.entry.sha256 ?? ''}`, 'unknown_token'], [`Bearer ${token.slice(0, -1)}`, 'unknown_token'],
    ] as const) {
      assert.deepEqual(verifier.authenticate(header), { ok: false, reason }, String(header));
    }
  });

  it('scopes nest: admin ⊇ operate ⊇ read', () => {
    assert.deepEqual(SCOPES.flatMap((held) => SCOPES.filter((needed) => scopeAllows(held, needed)).map((needed) => `${held}>${needed}`)),
      ['read>read', 'operate>read', 'operate>operate', 'admin>read', 'admin>operate', 'admin>admin']);
  });

  it('config refuses plaintext-looking digests, duplicate names or digests, unknown scopes and no tokens', () => {
    const t = createToken('a', 'read').entry;
    for (const [raw, pattern] of [
      [{ tokens: [] }, /tokens/],
      [{ tokens: [{ ...t, sha256: 'bet_secret' }] }, /tokens\.0\.sha256/],
      [{ tokens: [{ ...t, sha256: t.sha256.toUpperCase() }] }, /sha256/],
      [{ tokens: [t, { ...t, sha256: createToken('b', 'read').entry.sha256 }] }, /used twice/],
      [{ tokens: [t, { ...t, name: 'b' }] }, /digest is configured twice/],
      [{ tokens: [{ ...t, scope: 'root' }] }, /scope/],
      [{ tokens: [t], surprise: 1 }, /surprise/],
    ] as const) {
      assert.throws(() => parseApiConfig(raw), pattern);
    }
  });
});

/** A sample URL for a route pattern (parameters filled with valid identifiers). */
function sampleUrl(pattern: string): string {
  return pattern.replace(':scope', 'provider:zz').replace(/:[A-Za-z]+/g, 'x1');
}

describe('scopes on every route', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig();
  });
  after(async () => rig.close());

  it('every non-public route answers 401 without a token and lets each token through exactly as its scope allows', async () => {
    const publicUrls = new Set(['/health', '/ready', '/api/v1/openapi.json']);
    const doc = rig.api.app.swagger() as { paths: Record<string, Record<string, { description?: string }>> };
    let checked = 0;
    for (const { method, url } of rig.api.routes) {
      const sample = sampleUrl(url);
      const m = method as 'GET' | 'POST' | 'PUT' | 'DELETE';
      const anonymous = await rig.call(m, sample, { as: null, ip: '10.1.0.1' });
      if (publicUrls.has(url)) {
        assert.notEqual(anonymous.status, 401, url);
        continue;
      }
      assert.equal(anonymous.status, 401, `${method} ${url}`);
      const needed = SCOPES.find((s) => doc.paths[url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[method.toLowerCase()]?.description?.includes(`scope ${s} `));
      assert.ok(needed, `${method} ${url} documents its scope`);
      for (const held of SCOPES) {
        // No body: a write that passes authorisation stops at validation (400), so nothing changes.
        const r = await rig.call(m, sample, { as: held, ip: '10.1.0.2' });
        assert.equal(r.status === 403, !scopeAllows(held, needed), `${held} on ${method} ${url}: ${r.status}`);
        checked++;
      }
    }
    assert.ok(checked >= 3 * 15, `checked ${checked}`);
  });

  it('audits each refusal with the address, route and reason, never the token', async () => {
    const before = (await auditOf(rig.h, 'api_request_refused')).length;
    await rig.call('GET', '/api/v1/pairs', { authorization: 'Bearer bet_guessed-token', ip: '10.2.0.1' });
    await rig.call('GET', '/api/v1/tokens', { as: 'read', ip: '10.2.0.1' });
    const refused = (await auditOf(rig.h, 'api_request_refused')).slice(before);
    assert.deepEqual(refused.map((e) => [e.data.status, e.data.reason, e.data.ip, e.data.method, e.data.route, e.data.tokenName ?? null]), [
      [401, 'unknown_token', '10.2.0.1', 'GET', '/api/v1/pairs', null],
      [403, 'scope', '10.2.0.1', 'GET', '/api/v1/tokens', tokenNames.read],
    ]);
    const raw = JSON.stringify(await rig.h.audit());
    assert.ok(!raw.includes('bet_guessed-token'));
    for (const token of Object.values(rig.tokens)) assert.ok(!raw.includes(token));
  });

  it('says who the caller is, and lists token names and scopes to admins only (no digests)', async () => {
    assert.deepEqual((await rig.call('GET', '/api/v1/whoami', { as: 'read' })).body, { name: tokenNames.read, scope: 'read' });
    const listed = await rig.call('GET', '/api/v1/tokens', { as: 'admin' });
    assert.deepEqual(listed.body, { tokens: [{ name: tokenNames.read, scope: 'read' }, { name: tokenNames.operate, scope: 'operate' }, { name: tokenNames.admin, scope: 'admin' }] });
    assert.ok(!JSON.stringify(listed.body).includes('sha256'));
  });

  it('sends WWW-Authenticate with a 401', async () => {
    const r = await rig.call('GET', '/api/v1/pairs', { as: null });
    assert.equal(r.body.code, 'unauthenticated');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="bet-executor"');
    assert.equal((await rig.call('GET', '/api/v1/pairs', { authorization: 'Bearer nope' })).body.code, 'invalid_token');
  });
});

describe('refused requests are rate-limited per client address', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig({ authFailures: { failuresMax: 3, windowMs: 400 } });
  });
  after(async () => rig.close());

  it('past the limit every request of the address gets 429 with Retry-After (a good token too), unaudited; others are unaffected; the window ends', async () => {
    const ip = '10.3.0.1';
    const before = (await auditOf(rig.h, 'api_request_refused')).length;
    for (let i = 0; i < 3; i++) assert.equal((await rig.call('GET', '/api/v1/pairs', { authorization: `Bearer bet_guess-${i}`, ip })).status, 401);
    for (const options of [{ authorization: 'Bearer bet_guess-3', ip }, { as: 'read' as const, ip }]) {
      const limited = await rig.call('GET', '/api/v1/pairs', options);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'too_many_failed_attempts');
      assert.equal(limited.headers['retry-after'], '1');
    }
    assert.equal((await auditOf(rig.h, 'api_request_refused')).length - before, 3);
    assert.equal((await rig.call('GET', '/api/v1/pairs', { as: 'read', ip: '10.3.0.2' })).status, 200);
    await rig.h.waitFor('the refusal window to end', async () => (await rig.call('GET', '/api/v1/pairs', { as: 'read', ip })).status === 200);
  });

  it('public routes are not limited', async () => {
    const ip = '10.3.0.3';
    for (let i = 0; i < 4; i++) await rig.call('GET', '/api/v1/pairs', { as: null, ip });
    assert.equal((await rig.call('GET', '/health', { as: null, ip })).status, 200);
  });
});
