// Every error answer is JSON with a stable code from the catalogue: bad bodies, limits, cursors, unknown routes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { errorCatalogue } from '../../src/api/errors.js';
import { encodeCursor } from '../../src/api/cursor.js';
import { createApiRig, type ApiRig } from './support.js';

describe('error answers', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig({ bodyLimitBytes: 1_024 });
  });
  after(async () => rig.close());

  const expectError = async (answer: Promise<{ status: number; body: Record<string, unknown> }>, status: number, code: string) => {
    const r = await answer;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.code, code);
    assert.equal(r.body.statusCode, status);
    assert.equal(typeof r.body.message, 'string');
    assert.equal(typeof r.body.error, 'string');
    return r;
  };

  it('a body that is not JSON is invalid_json; an empty JSON body too', async () => {
    await expectError(rig.call('PUT', '/api/v1/kill-switches/global', { rawBody: { payload: '{"reason": "x"', contentType: 'application/json' } }), 400, 'invalid_json');
    await expectError(rig.call('PUT', '/api/v1/kill-switches/global', { rawBody: { payload: '', contentType: 'application/json' } }), 400, 'invalid_json');
  });

  it('a body over bodyLimitBytes is body_too_large, a text body unsupported_media_type', async () => {
    await expectError(rig.call('PUT', '/api/v1/kill-switches/global', { body: { reason: 'x'.repeat(2_000) } }), 413, 'body_too_large');
    await expectError(rig.call('PUT', '/api/v1/kill-switches/global', { rawBody: { payload: 'reason=x', contentType: 'text/plain' } }), 415, 'unsupported_media_type');
    assert.equal(await rig.h.redis.exists('be:kill:global'), 0);
  });

  it('invalid query fields are invalid_request with details naming each', async () => {
    const r = await expectError(rig.call('GET', '/api/v1/pairs?limit=0&state=nonsense&surprise=1'), 400, 'invalid_request');
    const details = (r.body.details as string[]).join('\n');
    assert.match(details, /limit/);
    assert.match(details, /state/);
    assert.match(details, /surprise|additional/);
    await expectError(rig.call('GET', '/api/v1/pairs?from=yesterday'), 400, 'invalid_request');
    await expectError(rig.call('GET', '/api/v1/pairs/arb:1'), 400, 'invalid_request');
    await expectError(rig.call('GET', '/api/v1/accounts/wl1/book*/acc'), 400, 'invalid_request');
  });

  it('a cursor not issued by this API, damaged, or of another list is invalid_cursor', async () => {
    for (const cursor of ['garbage', encodeCursor('deliveries', { id: '1-1' }), encodeCursor('pairs', { atMs: 'x', arbId: 'a' }), Buffer.from('[1]').toString('base64url')]) {
      await expectError(rig.call('GET', `/api/v1/pairs?cursor=${cursor}`), 400, 'invalid_cursor');
    }
    await expectError(rig.call('GET', `/api/v1/alerts/deliveries?cursor=${encodeCursor('deliveries', { id: '1-1; DEL x' })}`), 400, 'invalid_cursor');
    await expectError(rig.call('GET', `/api/v1/alerts/dead?cursor=${encodeCursor('dead', { offset: -5 })}`), 400, 'invalid_cursor');
    await expectError(rig.call('GET', `/api/v1/exposures/resolved?cursor=${encodeCursor('resolved', { scan: 'abc' })}`), 400, 'invalid_cursor');
  });

  it('an unknown route is not_found, as JSON', async () => {
    await expectError(rig.call('GET', '/api/v1/nothing-here'), 404, 'not_found');
    await expectError(rig.call('POST', '/api/v1/pairs', { body: {} }), 404, 'not_found');
  });

  it('every code of the catalogue is in the README\'s error table', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const [code, { statusCode }] of Object.entries(errorCatalogue)) {
      assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${statusCode} \\|`), `README documents ${code}`);
    }
  });
});
