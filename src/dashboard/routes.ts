// Route options of a dashboard route (who may open it, from the session cookie; not in the OpenAPI document) and its HTML answer.
import type { FastifyReply } from 'fastify';
import type { Scope } from '../api/config.js';
import type { Html } from './html.js';

export function dashboardRoute(scope: Scope | 'public') {
  return { config: { access: { scope, via: 'session' as const } } };
}

/** An HTML answer, never cached (pages hold live money state). */
export function sendHtml(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body.text);
}
