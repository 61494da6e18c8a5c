// The simulated bookmaker as a real HTTP server (fastify): the reference protocol plus /_sim control endpoints.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { secretCharsRe, secretLengthMax } from '../credentials.js';
import { accountStatusSchema, betStatusSchema, idLengthMax, notFoundError, placeRequestSchema, settledPageLimitMax, statusBatchRequestSchema } from '../providers/protocol.js';
import { SimBookmaker, type SimLookupResult, type SimPlaceResult } from './bookmaker.js';
import { faultSpecSchema, hangMsDefault, hangMsMax } from './faults.js';

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
  /**
   * Keys this bookmaker accepts as `Authorization: Bearer <key>` (several: a key being rotated). Given, every
   * bookmaker (non-/_sim) request without a valid one is answered 401 `{ error: "unauthorized" }`.
   */
  apiKeys?: readonly string[];
  /** Accounts with keys of their own (ids compared ignoring case): a placement on one must carry its key. */
  accountApiKeys?: Readonly<Record<string, string>>;
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

const sickBodySchema = z.strictObject({ mode: z.enum(['error_500', 'timeout', 'off']), hangMs: z.int().min(0).max(hangMsMax).optional() });
const accountBodySchema = z.strictObject({ accountId: z.string().min(1).max(idLengthMax), status: accountStatusSchema });

/** Bookmaker requests received, by kind (GET /_sim/requests): a circuit probe shows here, never in /_sim/bets. */
interface RequestCounts {
  place: number;
  lookup: number;
  status: number;
  account: number;
}
/** Control: results set ahead of time (or now), many at once (the bench settles thousands of bets on a schedule). */
const settleManyBodySchema = z.array(z.object({
  ticketId: z.string().min(1).max(idLengthMax),
  result: betStatusSchema.extract(['won', 'lost', 'void', 'half_won', 'half_lost']),
  atMs: z.int().nonnegative().optional(),
})).max(10_000);
/** Control: placements many at once (the bench opens 100,000s of bets), each as `POST /bets` would take it. */
const placeManyBodySchema = z.array(placeRequestSchema).max(10_000);
const controlBodyLimitBytes = 8 * 1024 * 1024;

const settledQuerySchema = z.object({
  cursor: z.string().min(1).max(idLengthMax).regex(/^\d+$/).optional(),
  limit: z.coerce.number().int().min(1).max(settledPageLimitMax).default(settledPageLimitMax),
});

interface ServerContext {
  bookmaker: SimBookmaker;
  /** Null: no Authorization checked. */
  auth: SimAuth | null;
  latencyMs: number;
  /** Aborted on close(): ends latency waits and hangs at once. */
  closing: AbortController;
  requests: RequestCounts;
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
  const context: ServerContext = { bookmaker, latencyMs, closing: new AbortController(), auth: simAuth(options), requests: { place: 0, lookup: 0, status: 0, account: 0 } };
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
  if (context.auth) registerAuthCheck(app, context.auth);
  registerBookmakerRoutes(app, context);
  registerControlRoutes(app, context);
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
    context.requests.place += 1;
    const parsed = placeRequestSchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    // An account with a key of its own takes placements only under that key (checked before anything is placed).
    if (context.auth && !context.auth.placementAllowed(request.headers.authorization, parsed.data.accountId)) return unauthorized(reply);
    // A suspended account is refused before anything is read further, like a refused key (not in /_sim/bets).
    if (bookmaker.sickness() === null && bookmaker.accountStatus(parsed.data.accountId) === 'suspended') return reply.code(403).send({ error: 'account_suspended' });
    const result = bookmaker.place(parsed.data);
    return answerPlacement(request, reply, context, result);
  });
  app.get<{ Params: { clientRef: string } }>('/bets/by-ref/:clientRef', async (request, reply) => {
    context.requests.lookup += 1;
    if (bookmaker.sickness() !== null) return answerSick(request, reply, context);
    const result = bookmaker.lookupByClientRef(request.params.clientRef);
    await delay(context);
    return answerLookup(reply, result);
  });
  app.post('/bets/status', async (request, reply) => {
    const parsed = statusBatchRequestSchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const result = bookmaker.statuses(parsed.data.ticketIds);
    await delay(context);
    return reply.code(200).send(result);
  });
  app.get<{ Params: { accountId: string } }>('/accounts/:accountId/settled', async (request, reply) => {
    const parsed = settledQuerySchema.safeParse(request.query);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const page = bookmaker.settledSince(request.params.accountId, parsed.data.cursor ?? null, parsed.data.limit);
    await delay(context);
    return reply.code(200).send(page);
  });
  app.get<{ Params: { ticketId: string } }>('/bets/:ticketId', async (request, reply) => {
    context.requests.status += 1;
    if (bookmaker.sickness() !== null) return answerSick(request, reply, context);
    const result = bookmaker.status(request.params.ticketId);
    await delay(context);
    return answerLookup(reply, result);
  });
  // The account's standing, under the key its placements use: it places nothing (a circuit probe asks it).
  app.get<{ Params: { accountId: string } }>('/accounts/:accountId', async (request, reply) => {
    context.requests.account += 1;
    if (context.auth && !context.auth.placementAllowed(request.headers.authorization, request.params.accountId)) return unauthorized(reply);
    if (bookmaker.sickness() !== null) return answerSick(request, reply, context);
    await delay(context);
    return reply.code(200).send({ account: { accountId: request.params.accountId, status: bookmaker.accountStatus(request.params.accountId) } });
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

/** A sick bookmaker's answer to a read: a 500, or none (the request hangs, then the socket is dropped). */
async function answerSick(request: FastifyRequest, reply: FastifyReply, context: ServerContext): Promise<FastifyReply> {
  const sickness = context.bookmaker.sickness();
  if (sickness?.mode === 'timeout') return hang(request, reply, sickness.hangMs, context.closing.signal);
  await delay(context);
  return reply.code(500).send({ error: 'internal' });
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

/** Digests of the accepted keys; a presented token is compared with each in constant time. */
interface SimAuth {
  /** The request carries one of the keys (provider's or an account's): may reach a route at all. */
  anyKey(header: string | undefined): boolean;
  /** Lookups, status checks and placements on accounts without a key of their own: the provider's keys. */
  providerKey(header: string | undefined): boolean;
  placementAllowed(header: string | undefined, accountId: string): boolean;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time over every key (no early exit, equal-length digests), so timing tells nothing about a key. */
function matchesAny(token: Buffer | null, keys: readonly Buffer[]): boolean {
  let matched = false;
  for (const key of keys) matched = (token !== null && timingSafeEqual(token, key)) || matched;
  return matched;
}

function bearerToken(header: string | undefined): Buffer | null {
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header ?? '');
  return match?.[1] === undefined ? null : digest(match[1]);
}

function simAuth(options: SimServerOptions): SimAuth | null {
  const providerKeys = options.apiKeys ?? [];
  const accountEntries = Object.entries(options.accountApiKeys ?? {});
  if (providerKeys.length === 0 && accountEntries.length === 0) return null;
  if (providerKeys.length === 0) throw new Error('sim accountApiKeys need apiKeys too (lookups and status checks take the provider\'s key)');
  for (const key of [...providerKeys, ...accountEntries.map(([, key]) => key)]) {
    if (!secretCharsRe.test(key) || key.length > secretLengthMax) throw new Error(`sim api keys are 1-${secretLengthMax} visible ASCII characters`);
  }
  const provider = providerKeys.map(digest);
  const accounts = new Map(accountEntries.map(([accountId, key]) => [accountId.toLowerCase(), digest(key)]));
  const all = [...provider, ...accounts.values()];
  return {
    anyKey: (header) => matchesAny(bearerToken(header), all),
    providerKey: (header) => matchesAny(bearerToken(header), provider),
    placementAllowed: (header, accountId) => {
      const own = accounts.get(accountId.toLowerCase());
      return matchesAny(bearerToken(header), own === undefined ? provider : [own]);
    },
  };
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
}

/** Every bookmaker request needs a key before its body is even read; /_sim control endpoints stay open. */
function registerAuthCheck(app: FastifyInstance, auth: SimAuth): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/_sim' || request.url.startsWith('/_sim/')) return;
    const header = request.headers.authorization;
    // A placement's account is known only from its body, an account request's from its path: the handler checks
    // an account's own key.
    const path = request.url.split('?')[0] ?? '';
    const accountScoped = (request.method === 'POST' && path === '/bets') || (request.method === 'GET' && path.startsWith('/accounts/'));
    const allowed = accountScoped ? auth.anyKey(header) : auth.providerKey(header);
    if (!allowed) return unauthorized(reply);
  });
}

function registerControlRoutes(app: FastifyInstance, context: ServerContext): void {
  const { bookmaker } = context;
  app.get('/_sim/health', async () => ({ ok: true, name: bookmaker.name }));
  app.get('/_sim/requests', async () => {
    // Requests over HTTP by kind; the settlement ones (batched status, feed pages) as the bookmaker counted them.
    const { statuses, settled, settledByAccount } = bookmaker.requests;
    return { requests: { ...context.requests, statuses, settled, settledAccounts: settledByAccount.size } };
  });
  app.get('/_sim/sick', async () => ({ sick: bookmaker.sickness() }));
  app.post('/_sim/sick', async (request, reply) => {
    const parsed = sickBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const { mode, hangMs } = parsed.data;
    bookmaker.setSickness(mode === 'off' ? null : mode === 'error_500' ? { mode } : { mode, hangMs: hangMs ?? hangMsDefault });
    return reply.code(200).send({ sick: bookmaker.sickness() });
  });
  app.post('/_sim/accounts', async (request, reply) => {
    const parsed = accountBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    bookmaker.setAccountStatus(parsed.data.accountId, parsed.data.status);
    return reply.code(200).send({ account: { accountId: parsed.data.accountId, status: bookmaker.accountStatus(parsed.data.accountId) } });
  });
  app.get('/_sim/bets', async () => ({ bets: bookmaker.log() }));
  app.get('/_sim/lookups', async () => ({ lookups: bookmaker.lookupLog() }));
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
  app.post('/_sim/settle-many', { bodyLimit: controlBodyLimitBytes }, async (request, reply) => {
    const parsed = settleManyBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    let settled = 0;
    for (const item of parsed.data) if (bookmaker.settleAt(item.ticketId, item.result, item.atMs).kind === 'settled') settled++;
    return reply.code(200).send({ settled });
  });
  app.post('/_sim/place-many', { bodyLimit: controlBodyLimitBytes }, async (request, reply) => {
    const parsed = placeManyBodySchema.safeParse(request.body);
    if (!parsed.success) return badRequest(reply, parsed.error);
    const tickets = parsed.data.map((body) => {
      const result = bookmaker.place(body);
      return result.kind === 'answer' ? { clientRef: body.clientRef, ticketId: result.bet.ticketId, status: result.bet.status } : { clientRef: body.clientRef, status: result.kind };
    });
    return reply.code(200).send({ tickets });
  });
  app.post('/_sim/reset', async () => {
    bookmaker.reset();
    context.requests = { place: 0, lookup: 0, status: 0, account: 0 };
    return { ok: true };
  });
}
