// At debug level, one line per bookmaker request and one per answer: what was asked and what came back, never a key.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { AccountStatusOutcome, BetView, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from '../providers/provider.js';

/** The fields of a bet an operator needs to follow a pair (no headers, no credentials: providers keep those). */
function betSummary(bet: BetView | undefined): Record<string, unknown> | undefined {
  if (!bet) return undefined;
  return { ticketId: bet.ticketId, status: bet.status, oddsMilli: bet.oddsMilli, stakeMinor: bet.stakeMinor, reason: bet.reason };
}

function answerSummary(outcome: PlaceOutcome | LookupOutcome | AccountStatusOutcome): Record<string, unknown> {
  const bet = 'bet' in outcome ? outcome.bet : undefined;
  return {
    kind: outcome.kind,
    ...(bet ? { bet: betSummary(bet) } : {}),
    ...('reason' in outcome ? { reason: outcome.reason } : {}),
    ...('currentOddsMilli' in outcome ? { currentOddsMilli: outcome.currentOddsMilli } : {}),
    ...('detail' in outcome ? { detail: outcome.detail } : {}),
    ...('status' in outcome ? { status: outcome.status } : {}),
  };
}

class LoggedProvider implements Provider {
  readonly accountStatus?: (accountId: string) => Promise<AccountStatusOutcome>;

  constructor(private readonly inner: Provider, private readonly log: Logger) {
    const ask = inner.accountStatus?.bind(inner);
    if (ask) this.accountStatus = (accountId) => this.logged('account', { accountId }, () => ask(accountId));
  }

  get name(): string {
    return this.inner.name;
  }

  place(request: PlaceRequest): Promise<PlaceOutcome> {
    const { clientRef, accountId, eventId, market, selection, oddsMilli, stakeMinor, currency } = request;
    return this.logged('place', { clientRef, accountId, eventId, market, selection, oddsMilli, stakeMinor, currency }, () => this.inner.place(request));
  }

  lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    return this.logged('lookup', { clientRef }, () => this.inner.lookupByClientRef(clientRef));
  }

  status(ticketId: string): Promise<LookupOutcome> {
    return this.logged('status', { ticketId }, () => this.inner.status(ticketId));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async logged<T extends PlaceOutcome | LookupOutcome | AccountStatusOutcome>(operation: string, request: Record<string, unknown>, call: () => Promise<T>): Promise<T> {
    const provider = this.inner.name;
    this.log.debug({ provider, operation, request }, 'bookmaker request');
    const startMs = performance.now();
    try {
      const outcome = await call();
      this.log.debug({ provider, operation, clientRef: request.clientRef, ticketId: request.ticketId, answer: answerSummary(outcome), durationMs: Math.round(performance.now() - startMs) }, 'bookmaker answer');
      return outcome;
    } catch (error) {
      this.log.debug({ provider, operation, clientRef: request.clientRef, err: error, durationMs: Math.round(performance.now() - startMs) }, 'bookmaker request threw');
      throw error;
    }
  }
}

/** The providers wrapped for debug logging when the logger is at debug level (or finer); as they are otherwise. */
export function loggedProviders(providers: Map<string, Provider>, log: Logger): Map<string, Provider> {
  if (!log.isLevelEnabled('debug')) return providers;
  return new Map([...providers].map(([name, provider]) => [name, new LoggedProvider(provider, log)]));
}
