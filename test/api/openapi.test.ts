// The OpenAPI document served by the API matches its routes both ways: every route documented, every documented route real.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiRig, type ApiRig } from './support.js';

type Operation = { security?: unknown[]; responses?: Record<string, unknown>; summary?: string };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

describe('the OpenAPI document', () => {
  let rig: ApiRig;
  let doc: Doc;
  before(async () => {
    rig = await createApiRig();
    const r = await rig.call('GET', '/api/v1/openapi.json', { as: null });
    assert.equal(r.status, 200);
    doc = r.body as unknown as Doc;
  });
  after(async () => rig.close());

  const documented = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  const registered = () => rig.api.routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`).sort();

  it('documents every registered route, and every documented route is registered', () => {
    assert.ok(registered().length >= 19);
    assert.deepEqual(documented(), registered());
  });

  it('is served without a token as OpenAPI 3.1 and names the bearer scheme on every route that needs a token', () => {
    assert.equal(doc.openapi, '3.1.0');
    const publicPaths = new Set(['/health', '/ready', '/api/v1/openapi.json']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(op.summary, `${method} ${path} has a summary`);
        assert.equal(op.security === undefined, publicPaths.has(path), `${method} ${path} security`);
        assert.ok(op.responses?.['200'] && op.responses['4XX'] && op.responses['5XX'], `${method} ${path} responses`);
      }
    }
    assert.ok(doc.components.schemas.Error, 'the Error schema');
  });
});
