// The simulated bookmaker as a real HTTP server (fastify): the reference protocol plus /_sim control endpoints.
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { betStatusSchema, idLengthMax, notFoundError, placeRequestSchema } from '../providers/protocol.js';
import { SimBookmaker, type SimLookupResult, type SimPlaceResult } from './bookmaker.js';
import { faultSpecSchema } from './faults.js';

export const bodyLimitBytes = 64 * 1024;
const latencyMsMax = 60_000;

export interface SimServerOptions {
  /** 0 = any free port. */
  port?: number;
  host?: string;
  seed: number;
  dedupe?: boolean;
  /** null = never settle automatically. */
  settleAfterMs?: number | null;
  /** Added before every bookmaker (non-control) answer. */
  latencyMs?: number;
  name?: string;
  /** Clock of the bookmaker model; tests inject a manual one. */
  now?: () => number;
}

export interface SimServer {
  url: string;
  port: number;
  bookmaker: SimBookmaker;
  /** Stops listening, ends hung requests and destroys every open socket. */
  close(): Promise<void>;
}

const settleBodySchema = z
  .object({
    ticketId: z.string().min(1).max(idLengthMax).optional(),
    clientRef: z.string().min(1).max(idLengthMax).optional(),
    result: betStatusSchema.extract(['won', 'lost', 'void', 'half_won', 'half_lost']),
  })
  .refine((body) => body.ticketId !== undefined || body.clientRef !== undefined, 'ticketId or clientRef is required');

const faultsBodySchema = z.union([faultSpecSchema, z.array(faultSpecSchema).max(1000)]);

interface ServerContext {
  bookmaker: SimBookmaker;
  latencyMs: number;
  /** Aborted on close(): ends latency waits and hangs at once. */
  closing: AbortController;
}

export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isSafeInteger(latencyMs) || latencyMs < 0 || latencyMs > latencyMsMax) {
    throw new Error(`sim latencyMs (${latencyMs}) is not an integer in [0, ${latencyMsMax}]`);
  }
  const bookmaker = new SimBookmaker({
    name: options.name ?? 'sim',
    seed: options.seed,
    now: options.now ?? Date.now,
    dedupe: options.dedupe ?? true,
    settleAfterMs: options.settleAfterMs,
  });
  const context: ServerContext = { bookmaker, latencyMs, closing: new AbortController() };
  const app = buildApp(context);
  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('sim server has no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    bookmaker,
    close: async () => {
      context.closing.abort();
      await app.close();
    },
  };
}

function buildApp(context: ServerContext): FastifyInstance {
  // forceCloseConnections: close() destroys keep-alive sockets too, so a test process exits promptly.
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    // Params arrive percent-encoded: room for an identifier of idLengthMax characters, escaped.
    routerOptions: { maxParamLength: idLengthMax * 3 },
    forceCloseConnections: true,
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 500) return reply.code(500).send({ error: 'internal', details: [error.message] });
    return reply.code(statusCode).send({ error: clientErrorName(statusCode), details: [error.message] });
  });
  // A 404 from an unknown route must not read as "no such bet": a client would then re-send the bet.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'no_route' }));
  registerBookmakerRoutes(app, context);
  registerControlRoutes(app, context.bookmaker);
  return app;
}

function clientErrorName(statusCode: number): string {
  if (statusCode === 413) return 'body_too_large';
  if (statusCode === 415) return 'unsupported_media_type';
  return 'bad_request';
}

function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const details = error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
  return reply.code(400).send({ error: 'bad_request', details });
}

function registerBookmakerRoutes(app: FastifyInstance, context: ServerContext): void {
  const { bookmaker } = context;
  app.post('/bets', async (request, reply) => {
    const parsed = placeRequestSchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const result = bookmaker.place(parsed.data);
    return answerPlacement(request, reply, context, result);
  });
  app.get<{ Params: { clientRef: string } }>('/bets/by-ref/:clientRef', async (request, reply) => {
    const result = bookmaker.lookupByClientRef(request.params.clientRef);
    await delay(context);
    return answerLookup(reply, result);
  });
  app.get<{ Params: { ticketId: string } }>('/bets/:ticketId', async (request, reply) => {
    const result = bookmaker.status(request.params.ticketId);
    await delay(context);
    return answerLookup(reply, result);
  });
}

async function answerPlacement(
  request: FastifyRequest,
  reply: FastifyReply,
  context: ServerContext,
  result: SimPlaceResult,
): Promise<FastifyReply> {
  if (result.kind === 'no_answer') return hang(request, reply, result.hangMs, context.closing.signal);
  await delay(context);
  if (result.kind === 'error_500') return reply.code(500).send({ error: 'internal' });
  return reply.code(200).send({ bet: result.bet, duplicate: result.duplicate });
}

function answerLookup(reply: FastifyReply, result: SimLookupResult): FastifyReply {
  if (result.kind === 'error_500') return reply.code(500).send({ error: 'internal' });
  if (result.kind === 'not_found') return reply.code(404).send({ error: notFoundError });
  return reply.code(200).send({ bet: result.bet });
}

async function delay(context: ServerContext): Promise<void> {
  if (context.latencyMs > 0) await sleep(context.latencyMs, undefined, { signal: context.closing.signal });
}

/** Never answers: holds the request for hangMs (or until the client leaves or the server closes), then drops it. */
async function hang(request: FastifyRequest, reply: FastifyReply, hangMs: number, closing: AbortSignal): Promise<FastifyReply> {
  reply.hijack();
  const socket: Socket = request.raw.socket;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('close', done);
      closing.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, hangMs);
    socket.once('close', done);
    closing.addEventListener('abort', done, { once: true });
    if (socket.destroyed || closing.aborted) done();
  });
  socket.destroy();
  return reply;
}

function registerControlRoutes(app: FastifyInstance, bookmaker: SimBookmaker): void {
  app.get('/_sim/health', async () => ({ ok: true, name: bookmaker.name }));
  app.get('/_sim/bets', async () => ({ bets: bookmaker.log() }));
  app.get('/_sim/faults', async () => ({ faults: bookmaker.faults() }));
  app.post('/_sim/faults', async (request, reply) => {
    const parsed = faultsBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const specs = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    const added = specs.map((spec) => bookmaker.addFault(spec));
    return reply.code(200).send({ added });
  });
  app.post('/_sim/settle', async (request, reply) => {
    const parsed = settleBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const { ticketId, clientRef, result } = parsed.data;
    const settled = bookmaker.settle(ticketId ?? clientRef ?? '', result);
    if (settled.kind === 'not_found') return reply.code(404).send({ error: notFoundError });
    if (settled.kind === 'not_accepted') return reply.code(409).send({ error: 'not_accepted', status: settled.status });
    return reply.code(200).send({ bet: settled.bet });
  });
  app.post('/_sim/reset', async () => {
    bookmaker.reset();
    return { ok: true };
  });
}
