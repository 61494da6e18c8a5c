// Dashboard sessions over HTTP (inject): login makes a session stored under a digest, logout ends it, live fragments
// without a session tell htmx to go to the login page, and a failed login is a counted, audited refusal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditOf, createApiRig, type ApiRig } from '../api/support.js';

function cookieOf(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = [setCookie ?? []].flat();
  return all.map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1);
}

async function login(rig: ApiRig, token: string, ip = '127.0.0.9') {
  const form = await rig.api.app.inject({ method: 'GET', url: '/dashboard/login', remoteAddress: ip });
  const csrf = cookieOf(form.headers['set-cookie'], 'be_login_csrf') ?? '';
  return rig.api.app.inject({
    method: 'POST', url: '/dashboard/login', remoteAddress: ip,
    headers: { cookie: `be_login_csrf=${csrf}`, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    payload: new URLSearchParams({ token, _csrf: csrf }).toString(),
  });
}

describe('dashboard sessions', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig();
  });
  after(async () => rig.close());

  it('keeps only a digest of the session id in Redis, and logging out deletes the session at once', async () => {
    const r = await login(rig, rig.tokens.operate);
    assert.equal(r.statusCode, 303);
    const sid = cookieOf(r.headers['set-cookie'], 'be_session') ?? '';
    assert.ok(sid.length >= 40);
    const keys = await rig.h.redis.keys('be:api:session:*');
    assert.equal(keys.length, 1);
    assert.ok(!keys[0]?.includes(sid), 'the key is not the id');
    const now = await rig.api.app.inject({ method: 'GET', url: '/dashboard/now', headers: { cookie: `be_session=${sid}` } });
    assert.equal(now.statusCode, 200);
    const csrf = /"x-csrf-token":"([^"]+)"/.exec(now.body.replace(/&quot;/g, '"'))?.[1] ?? '';
    const out = await rig.api.app.inject({
      method: 'POST', url: '/dashboard/logout', headers: { cookie: `be_session=${sid}`, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      payload: `_csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(out.statusCode, 303);
    assert.equal((await rig.h.redis.keys('be:api:session:*')).length, 0);
    const again = await rig.api.app.inject({ method: 'GET', url: '/dashboard/now', headers: { cookie: `be_session=${sid}` } });
    assert.deepEqual([again.statusCode, again.headers.location], [303, '/dashboard/login']);
  });

  it('tells htmx to load the login page when a live fragment has no session', async () => {
    const r = await rig.api.app.inject({ method: 'GET', url: '/dashboard/now/tables', headers: { 'hx-request': 'true', cookie: 'be_session=gone' } });
    assert.deepEqual([r.statusCode, r.headers['hx-redirect']], [401, '/dashboard/login']);
  });

  it('answers a wrong token with the login page (401), counted and audited like a bad bearer token', async () => {
    const r = await login(rig, 'bet_wrong', '127.0.0.77');
    assert.equal(r.statusCode, 401);
    assert.equal(cookieOf(r.headers['set-cookie'], 'be_session'), undefined);
    const refused = (await auditOf(rig.h, 'api_request_refused')).filter((e) => e.data.ip === '127.0.0.77');
    assert.deepEqual(refused.map((e) => e.data.reason), ['unknown_token']);
  });

  it('refuses a login form posted without its double-submitted token', async () => {
    const r = await rig.api.app.inject({
      method: 'POST', url: '/dashboard/login', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token: rig.tokens.operate, _csrf: 'forged' }).toString(),
    });
    assert.equal(r.statusCode, 403);
    assert.equal(cookieOf(r.headers['set-cookie'], 'be_session'), undefined);
  });
});
