// Static files of the dashboard, read once at start: htmx and uPlot vendored from node_modules (no CDN, no build step) and our own CSS and JS.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { dashboardRoute } from './routes.js';

const require = createRequire(import.meta.url);

interface Asset {
  body: Buffer;
  contentType: string;
}

function load(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  const own = (name: string) => new URL(`./assets/${name}`, import.meta.url);
  const files: Array<[string, string | URL, string]> = [
    ['htmx.min.js', require.resolve('htmx.org/dist/htmx.min.js'), js],
    ['uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'), js],
    ['uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'), css],
    ['dashboard.css', own('dashboard.css'), css],
    ['results.js', own('results.js'), js],
  ];
  return new Map(files.map(([name, path, contentType]) => [name, { body: readFileSync(path), contentType }]));
}

/** GET /dashboard/assets/:name, public (library code and styles, no data): the login page needs them before a session. */
export function registerAssets(app: FastifyInstance): void {
  const assets = load();
  app.get<{ Params: { name: string } }>('/dashboard/assets/:name', dashboardRoute('public'), async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset');
    return reply.type(asset.contentType).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
}
