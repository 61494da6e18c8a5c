// HttpProvider: the Provider port over the reference bookmaker HTTP protocol (undici keep-alive pool, a timeout on every call).
import { Pool } from 'undici';
import { urlCarriesExtras } from '../config.js';
import type { ProviderKeys, Secret } from '../credentials.js';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider, SettledPageOutcome, SettlementBatchPort, StatusBatchOutcome } from './provider.js';
import { placeOutcomeOf, toBetView } from './outcome.js';
import { accountResponseSchema, betResponseSchema, errorResponseSchema, notFoundError, placeResponseSchema, settledPageResponseSchema, statusBatchResponseSchema, statusBatchTicketsMax } from './protocol.js';

export interface HttpProviderOptions {
  name: string;
  /** Base URL of the bookmaker, e.g. http://127.0.0.1:4000 (a path prefix is kept). */
  url: string;
  /** Whole-call deadline: connect, send, headers and body. Default 5000. */
  requestTimeoutMs?: number;
  /** Keep-alive connections in the pool. Default 32. */
  connections?: number;
  /**
   * Keys sent as `Authorization: Bearer <key>`: an account's own key on its placements, the provider's key on
   * every other request (lookups, status checks, placements on other accounts). None: no Authorization header.
   */
  credentials?: ProviderKeys | undefined;
}

export const requestTimeoutMsDefault = 5000;
export const requestTimeoutMsMax = 120_000;
export const connectionsDefault = 32;
export const connectionsMax = 1024;
/**
 * Network failures that happen before a connection exists (undici sends a request only on an open socket):
 * the request never left. A connect *timeout* is not among them: our own deadline may fire mid-request.
 */
const notSentDetails: ReadonlySet<string> = new Set(['econnrefused', 'enotfound', 'ehostunreach', 'enetunreach', 'eai_again']);
/** A bookmaker answer larger than this is not one of ours: read no further. */
const responseBytesMax = 64 * 1024;
/** The same for a batched status answer (up to 1,000 bets of a few hundred bytes each). */
const batchResponseBytesMax = 1024 * 1024;
/** The bookmaker refused our credentials: certain (it did not act on the request), never in doubt. */
const unauthorizedStatuses: ReadonlySet<number> = new Set([401, 403]);

export function unauthorizedReason(statusCode: number): string {
  return `unauthorized: the bookmaker refused our credentials (http_${statusCode})`;
}

interface RawAnswer {
  statusCode: number;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: unknown;
}

export class HttpProvider implements Provider, SettlementBatchPort {
  readonly name: string;
  /** A getter, not a field: a field pointing at itself would make the provider unprintable as JSON. */
  get batch(): SettlementBatchPort {
    return this;
  }
  readonly requestTimeoutMs: number;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly credentials: ProviderKeys | undefined;

  constructor(options: HttpProviderOptions) {
    const requestTimeoutMs = options.requestTimeoutMs ?? requestTimeoutMsDefault;
    const connections = options.connections ?? connectionsDefault;
    assertIntIn('requestTimeoutMs', requestTimeoutMs, 1, requestTimeoutMsMax);
    assertIntIn('connections', connections, 1, connectionsMax);
    const url = new URL(options.url);
    // The URL itself is never repeated in a message: it may carry a password.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`provider ${options.name}: url scheme ${url.protocol} is not http(s)`);
    if (urlCarriesExtras(url)) {
      // Only origin and path are sent: a user:pass@, ?key= or #… would be dropped silently.
      throw new Error(`provider ${options.name}: url carries a user:password@, ?query or #fragment (never sent); pass keys as credentials`);
    }
    this.name = options.name;
    this.credentials = options.credentials;
    this.requestTimeoutMs = requestTimeoutMs;
    this.basePath = url.pathname.replace(/\/+$/, '');
    // undici's own timers are a backstop; the per-call AbortSignal is the deadline that counts.
    this.pool = new Pool(url.origin, {
      connections,
      headersTimeout: requestTimeoutMs * 2,
      bodyTimeout: requestTimeoutMs * 2,
      connect: { timeout: requestTimeoutMs },
    });
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    const body = JSON.stringify({
      clientRef: request.clientRef,
      accountId: request.accountId,
      eventId: request.eventId,
      market: request.market,
      selection: request.selection,
      oddsMilli: request.oddsMilli,
      stakeMinor: request.stakeMinor,
      currency: request.currency,
    });
    let answer: RawAnswer;
    try {
      answer = await this.call('POST', '/bets', body, this.keyFor(request.accountId));
    } catch (error) {
      const detail = networkDetail(error);
      // No connection was made, so no byte of the request reached the bookmaker: nothing can have been placed.
      return notSentDetails.has(detail) ? { kind: 'not_sent', detail } : { kind: 'in_doubt', detail };
    }
    return placeOutcomeFromAnswer(answer);
  }

  async lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    const outcome = await this.lookup(`/bets/by-ref/${encodeURIComponent(clientRef)}`);
    // A bookmaker answering with another bet is as good as no answer: never trust it.
    if (outcome.kind === 'found' && outcome.bet.clientRef !== clientRef) return { kind: 'unavailable', detail: 'mismatched_bet' };
    return outcome;
  }

  async status(ticketId: string): Promise<LookupOutcome> {
    const outcome = await this.lookup(`/bets/${encodeURIComponent(ticketId)}`);
    if (outcome.kind === 'found' && outcome.bet.ticketId !== ticketId) return { kind: 'unavailable', detail: 'mismatched_bet' };
    return outcome;
  }

  /** The account's standing under the key its placements use (its own, else the provider's): places nothing. */
  async accountStatus(accountId: string): Promise<AccountStatusOutcome> {
    let answer: RawAnswer;
    try {
      answer = await this.call('GET', `/accounts/${encodeURIComponent(accountId)}`, undefined, this.keyFor(accountId));
    } catch (error) {
      return { kind: 'unavailable', detail: networkDetail(error) };
    }
    if (answer.statusCode === 200) {
      const parsed = accountResponseSchema.safeParse(answer.body);
      if (!parsed.success || parsed.data.account.accountId.toLowerCase() !== accountId.toLowerCase()) return { kind: 'unavailable', detail: 'malformed_response' };
      return { kind: 'found', status: parsed.data.account.status };
    }
    if (unauthorizedStatuses.has(answer.statusCode)) return { kind: 'unavailable', detail: unauthorizedReason(answer.statusCode) };
    return { kind: 'unavailable', detail: `http_${answer.statusCode}` };
  }

  async statuses(ticketIds: readonly string[]): Promise<StatusBatchOutcome> {
    if (ticketIds.length === 0 || ticketIds.length > statusBatchTicketsMax) throw new Error(`statuses of ${ticketIds.length} tickets: 1 to ${statusBatchTicketsMax} per request`);
    let answer: RawAnswer;
    try {
      answer = await this.call('POST', '/bets/status', JSON.stringify({ ticketIds }), this.credentials?.apiKey, batchResponseBytesMax);
    } catch (error) {
      return { kind: 'unavailable', detail: networkDetail(error) };
    }
    if (answer.statusCode !== 200) return { kind: 'unavailable', detail: failedDetail(answer.statusCode) };
    const parsed = statusBatchResponseSchema.safeParse(answer.body);
    if (!parsed.success) return { kind: 'unavailable', detail: 'malformed_response' };
    // A bet for a ticket we did not ask about is as good as no answer: never trust it.
    const asked = new Set(ticketIds);
    if (parsed.data.bets.some((bet) => !asked.has(bet.ticketId))) return { kind: 'unavailable', detail: 'mismatched_bet' };
    return { kind: 'answered', bets: parsed.data.bets.map(toBetView), notFound: parsed.data.notFound };
  }

  async settledSince(accountId: string, cursor: string | null, limit: number): Promise<SettledPageOutcome> {
    const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    let answer: RawAnswer;
    try {
      answer = await this.call('GET', `/accounts/${encodeURIComponent(accountId)}/settled?${query}`, undefined, this.credentials?.apiKey, batchResponseBytesMax);
    } catch (error) {
      return { kind: 'unavailable', detail: networkDetail(error) };
    }
    if (answer.statusCode !== 200) return { kind: 'unavailable', detail: failedDetail(answer.statusCode) };
    const parsed = settledPageResponseSchema.safeParse(answer.body);
    if (!parsed.success || parsed.data.bets.length > limit) return { kind: 'unavailable', detail: 'malformed_response' };
    // Another account's bet in our feed: the answer cannot be trusted.
    if (parsed.data.bets.some((bet) => bet.accountId !== accountId)) return { kind: 'unavailable', detail: 'mismatched_bet' };
    return { kind: 'answered', bets: parsed.data.bets.map(toBetView), cursor: parsed.data.cursor, more: parsed.data.more };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async lookup(path: string): Promise<LookupOutcome> {
    let answer: RawAnswer;
    try {
      answer = await this.call('GET', path, undefined, this.credentials?.apiKey);
    } catch (error) {
      return { kind: 'unavailable', detail: networkDetail(error) };
    }
    return lookupOutcomeFromAnswer(answer);
  }

  /** An account's own key, else the provider's (accounts compared ignoring case). */
  private keyFor(accountId: string): Secret | undefined {
    return this.credentials?.accounts.get(accountId.toLowerCase()) ?? this.credentials?.apiKey;
  }

  private async call(method: 'GET' | 'POST', path: string, body: string | undefined, key: Secret | undefined, bytesMax = responseBytesMax): Promise<RawAnswer> {
    // One timer per call, cleared as soon as the call ends (AbortSignal.timeout would keep every one
    // alive for the whole timeout: thousands of them under settlement polling).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('request timed out', 'TimeoutError')), this.requestTimeoutMs);
    try {
      const response = await this.pool.request({
        method,
        path: this.basePath + path,
        headers: requestHeaders(body !== undefined, key),
        body,
        signal: controller.signal,
      });
      const length = Number(response.headers['content-length'] ?? 0);
      if (length > bytesMax) {
        await response.body.dump();
        return { statusCode: response.statusCode, body: undefined };
      }
      const text = await response.body.text();
      return { statusCode: response.statusCode, body: parseJson(text) };
    } finally {
      clearTimeout(timer);
    }
  }
}

function placeOutcomeFromAnswer(answer: RawAnswer): PlaceOutcome {
  const { statusCode } = answer;
  if (statusCode === 200) {
    const parsed = placeResponseSchema.safeParse(answer.body);
    // The bookmaker answered but we cannot read it: it may have taken the bet.
    if (!parsed.success) return { kind: 'in_doubt', detail: 'malformed_response' };
    return placeOutcomeOf(parsed.data.bet);
  }
  // A 4xx means the bookmaker refused the request itself: nothing was placed.
  if (unauthorizedStatuses.has(statusCode)) return { kind: 'rejected', reason: unauthorizedReason(statusCode) };
  if (statusCode >= 400 && statusCode < 500) return { kind: 'rejected', reason: `http_${statusCode}:${errorName(answer.body)}` };
  return { kind: 'in_doubt', detail: `http_${statusCode}` };
}

function lookupOutcomeFromAnswer(answer: RawAnswer): LookupOutcome {
  const { statusCode } = answer;
  if (statusCode === 200) {
    const parsed = betResponseSchema.safeParse(answer.body);
    if (!parsed.success) return { kind: 'unavailable', detail: 'malformed_response' };
    return { kind: 'found', bet: toBetView(parsed.data.bet) };
  }
  // Only an explicit "not_found" proves the bookmaker never took the ref; a bare 404 may be a wrong URL.
  if (statusCode === 404 && errorName(answer.body) === notFoundError) return { kind: 'not_found' };
  if (unauthorizedStatuses.has(statusCode)) return { kind: 'unavailable', detail: unauthorizedReason(statusCode) };
  return { kind: 'unavailable', detail: `http_${statusCode}` };
}

function failedDetail(statusCode: number): string {
  return unauthorizedStatuses.has(statusCode) ? unauthorizedReason(statusCode) : `http_${statusCode}`;
}

/** Built per call, so no header string holding a key outlives the request. */
function requestHeaders(hasBody: boolean, key: Secret | undefined): Record<string, string> | undefined {
  if (!hasBody && key === undefined) return undefined;
  const headers: Record<string, string> = {};
  if (hasBody) headers['content-type'] = 'application/json';
  if (key !== undefined) headers.authorization = `Bearer ${key.reveal()}`;
  return headers;
}

function errorName(body: unknown): string {
  const parsed = errorResponseSchema.safeParse(body);
  return parsed.success ? parsed.data.error : 'unknown';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, stable name for why a call got no answer: timeout, econnreset, econnrefused, ... */
export function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return 'network_error';
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
  const code = errorCode(error) ?? errorCode(error.cause);
  switch (code) {
    case undefined:
      return 'network_error';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    // undici's "other side closed": the bookmaker dropped the connection after we sent.
    case 'UND_ERR_SOCKET':
      return 'econnreset';
    default:
      return code.toLowerCase();
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function assertIntIn(what: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${what} (${value}) is not an integer in [${min}, ${max}]`);
  }
}
