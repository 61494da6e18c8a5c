// Bookmaker keys on the wire: HttpProvider sends Authorization: Bearer, the simulator checks it, 401/403 are certain refusals.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Secret, type ProviderKeys } from '../../src/credentials.js';
import { HttpProvider, unauthorizedReason } from '../../src/providers/http.js';
import { startSimServer, type SimServer } from '../../src/sim/server.js';
import { placeRequest } from '../support/requests.js';

const providerKey = 'prov-key-7f3a9c';
const rotatedKey = 'prov-key-new-55e1';
const vipKey = 'vip-key-b81d02';

function keys(apiKey: string | undefined, accounts: Record<string, string> = {}): ProviderKeys {
  return {
    apiKey: apiKey === undefined ? undefined : new Secret(apiKey),
    accounts: new Map(Object.entries(accounts).map(([id, key]) => [id.toLowerCase(), new Secret(key)])),
  };
}

describe('a simulator started with keys', () => {
  let sim: SimServer;
  before(async () => {
    sim = await startSimServer({ seed: 1, name: 'bk', apiKeys: [providerKey, rotatedKey], accountApiKeys: { 'Acc-VIP': vipKey } });
  });
  after(async () => sim.close());

  async function answer(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; challenge: string | null }> {
    const response = await fetch(`${sim.url}${path}`, init);
    return { status: response.status, body: await response.json(), challenge: response.headers.get('www-authenticate') };
  }
  const post = (authorization: string | undefined, body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });

  it('answers 401 unauthorized to every bookmaker request without a valid Bearer key, and places nothing', async () => {
    const refusals: [string, RequestInit][] = [
      ['/bets', post(undefined, placeRequest())],
      ['/bets', post('Bearer wrong-key', placeRequest())],
      ['/bets', post(`Basic ${providerKey}`, placeRequest())],
      ['/bets', post(`Bearer ${providerKey}x`, placeRequest())],
      ['/bets', post(`Bearer  ${providerKey}`, placeRequest())],
      ['/bets/by-ref/ref-1', {}],
      ['/bets/t-1', { headers: { authorization: 'Bearer nope' } }],
      ['/no/such/route', {}],
    ];
    for (const [path, init] of refusals) {
      assert.deepEqual(await answer(path, init), { status: 401, body: { error: 'unauthorized' }, challenge: 'Bearer' }, `${path} ${JSON.stringify(init.headers)}`);
    }
    assert.deepEqual(sim.bookmaker.log(), []);
  });

  it('serves requests with any of its keys (a key being rotated), the scheme in any case', async () => {
    const placed = await answer('/bets', post(`Bearer ${providerKey}`, placeRequest({ clientRef: 'ref-ok-1' })));
    assert.equal(placed.status, 200);
    assert.equal((await answer('/bets', post(`bearer ${rotatedKey}`, placeRequest({ clientRef: 'ref-ok-2' })))).status, 200);
    assert.equal((await answer('/bets/by-ref/ref-ok-1', { headers: { authorization: `Bearer ${rotatedKey}` } })).status, 200);
  });

  it('takes a placement on an account with its own key only under that key (account ids ignoring case)', async () => {
    const vip = (ref: string) => placeRequest({ clientRef: ref, accountId: 'acc-vip' });
    const before = sim.bookmaker.log().length;
    assert.equal((await answer('/bets', post(`Bearer ${providerKey}`, vip('ref-vip-1')))).status, 401);
    assert.equal(sim.bookmaker.log().length, before, 'nothing placed under the provider key');
    assert.equal((await answer('/bets', post(`Bearer ${vipKey}`, vip('ref-vip-2')))).status, 200);
    // The account's key is for its placements: another account, or a lookup, needs the provider's key.
    assert.equal((await answer('/bets', post(`Bearer ${vipKey}`, placeRequest({ clientRef: 'ref-vip-3' })))).status, 401);
    assert.equal((await answer('/bets/by-ref/ref-vip-2', { headers: { authorization: `Bearer ${vipKey}` } })).status, 401);
    assert.equal((await answer('/bets/by-ref/ref-vip-2', { headers: { authorization: `Bearer ${providerKey}` } })).status, 200);
  });

  it('keeps its /_sim control endpoints open (they are not the bookmaker protocol)', async () => {
    assert.equal((await answer('/_sim/health')).status, 200);
    assert.equal((await answer('/_sim/bets')).status, 200);
  });

  it('refuses to start with account keys but no provider key, or a key a header cannot carry', async () => {
    await assert.rejects(startSimServer({ seed: 1, accountApiKeys: { a: 'k' } }), /need apiKeys too/);
    await assert.rejects(startSimServer({ seed: 1, apiKeys: ['two words'] }), /visible ASCII/);
  });
});

describe('HttpProvider with credentials, against the simulator', () => {
  let sim: SimServer;
  before(async () => {
    sim = await startSimServer({ seed: 1, name: 'bk', apiKeys: [providerKey], accountApiKeys: { 'acc-vip': vipKey } });
  });
  after(async () => sim.close());

  async function withProvider<T>(credentials: ProviderKeys | undefined, use: (p: HttpProvider) => Promise<T>): Promise<T> {
    const provider = new HttpProvider({ name: 'bk', url: sim.url, requestTimeoutMs: 1_000, credentials });
    try {
      return await use(provider);
    } finally {
      await provider.close();
    }
  }

  it('places, looks up and checks status under the provider key, and an account’s placements under its own', async () => {
    await withProvider(keys(providerKey, { 'ACC-VIP': vipKey }), async (provider) => {
      const plain = await provider.place(placeRequest({ clientRef: 'ref-h1' }));
      assert.equal(plain.kind, 'accepted');
      const vip = await provider.place(placeRequest({ clientRef: 'ref-h2', accountId: 'Acc-Vip' }));
      assert.equal(vip.kind, 'accepted');
      assert.equal((await provider.lookupByClientRef('ref-h2')).kind, 'found');
      assert.equal((await provider.status(vip.kind === 'accepted' ? vip.bet.ticketId : '')).kind, 'found');
    });
  });

  const refused: [string, ProviderKeys | undefined][] = [
    ['no key at all', undefined],
    ['a wrong key', keys('not-the-key')],
  ];
  for (const [what, credentials] of refused) {
    it(`with ${what}: the placement is rejected unauthorized (certain, nothing placed), lookups unavailable`, async () => {
      const before = sim.bookmaker.log().length;
      await withProvider(credentials, async (provider) => {
        assert.deepEqual(await provider.place(placeRequest()), { kind: 'rejected', reason: 'unauthorized: the bookmaker refused our credentials (http_401)' });
        assert.deepEqual(await provider.lookupByClientRef('ref-h1'), { kind: 'unavailable', detail: unauthorizedReason(401) });
        assert.deepEqual(await provider.status('t-1'), { kind: 'unavailable', detail: unauthorizedReason(401) });
      });
      assert.equal(sim.bookmaker.log().length, before);
    });
  }

  it('without the account’s own key, a placement on that account is rejected unauthorized and not placed', async () => {
    const before = sim.bookmaker.log().length;
    await withProvider(keys(providerKey), async (provider) => {
      assert.deepEqual(await provider.place(placeRequest({ accountId: 'acc-vip' })), { kind: 'rejected', reason: unauthorizedReason(401) });
    });
    assert.equal(sim.bookmaker.log().length, before);
  });
});

describe('HttpProvider headers and a 403, against a raw server', () => {
  let server: Server;
  let url = '';
  let status = 200;
  const seen: { method: string; path: string; authorization: string | undefined }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'forbidden' })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends Authorization: Bearer on every request, and none without credentials', async () => {
    status = 404;
    const withKeys = new HttpProvider({ name: 'raw', url, credentials: keys(providerKey, { vip: vipKey }) });
    const without = new HttpProvider({ name: 'raw', url });
    try {
      seen.length = 0;
      await withKeys.place(placeRequest());
      await withKeys.place(placeRequest({ accountId: 'VIP' }));
      await withKeys.lookupByClientRef('r1');
      await withKeys.status('t1');
      await without.place(placeRequest());
      await without.status('t1');
      assert.deepEqual(seen.map((s) => s.authorization), [`Bearer ${providerKey}`, `Bearer ${vipKey}`, `Bearer ${providerKey}`, `Bearer ${providerKey}`, undefined, undefined]);
    } finally {
      await withKeys.close();
      await without.close();
    }
  });

  it('maps a 403 to rejected unauthorized on a placement and unavailable on a lookup', async () => {
    status = 403;
    const provider = new HttpProvider({ name: 'raw', url, credentials: keys(providerKey) });
    try {
      assert.deepEqual(await provider.place(placeRequest()), { kind: 'rejected', reason: 'unauthorized: the bookmaker refused our credentials (http_403)' });
      assert.deepEqual(await provider.lookupByClientRef('r1'), { kind: 'unavailable', detail: unauthorizedReason(403) });
    } finally {
      await provider.close();
    }
  });

  it('refuses a url carrying credentials or parameters, without repeating it', () => {
    for (const bad of [`http://u:${providerKey}@127.0.0.1:1`, `http://127.0.0.1:1/?key=${providerKey}`, `http://127.0.0.1:1/#${providerKey}`]) {
      assert.throws(() => new HttpProvider({ name: 'x', url: bad }), (error: Error) => /carries a user:password@, \?query or #fragment/.test(error.message) && !error.message.includes(providerKey));
    }
  });

  it('shows no key when the provider object is printed', async () => {
    const { inspect } = await import('node:util');
    const provider = new HttpProvider({ name: 'raw', url, credentials: keys(providerKey, { vip: vipKey }) });
    try {
      const printed = inspect(provider, { depth: 10, showHidden: true }) + JSON.stringify(provider);
      assert.ok(!printed.includes(providerKey) && !printed.includes(vipKey));
    } finally {
      await provider.close();
    }
  });
});

describe('bet-executor sim --api-key-env', () => {
  it('requires the key read from the variable, and exits 2 when the variable is missing', async () => {
    const child = spawn(process.execPath, ['bin/bet-executor.mjs', 'sim', '--port', '0', '--api-key-env', 'T_SIM_KEY', '--account-key-env', 'acc-vip=T_SIM_VIP'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, T_SIM_KEY: providerKey, T_SIM_VIP: vipKey },
    });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    assert.match(line, /requests need Authorization: Bearer, key from env T_SIM_KEY/);
    assert.ok(!line.includes(providerKey));
    const simUrl = /listening on (\S+)/.exec(line)?.[1];
    const body = JSON.stringify(placeRequest({ accountId: 'acc-vip' }));
    const headers = (key: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${key}` });
    assert.equal((await fetch(`${simUrl}/bets`, { method: 'POST', headers: headers(providerKey), body })).status, 401);
    assert.equal((await fetch(`${simUrl}/bets`, { method: 'POST', headers: headers(vipKey), body })).status, 200);
    child.kill('SIGTERM');
    await once(child, 'exit');

    const missing = spawn(process.execPath, ['bin/bet-executor.mjs', 'sim', '--api-key-env', 'T_SIM_NOT_SET'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, T_SIM_NOT_SET: '' } });
    let stderr = '';
    missing.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(missing, 'exit')) as [number | null];
    assert.equal(code, 2, stderr);
    assert.match(stderr, /environment variable T_SIM_NOT_SET is not set or empty/);
  });
});
