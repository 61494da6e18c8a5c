// InProcessProvider: the Provider port on a SimBookmaker in the same process (unit tests, conformance reference).
import type { SimBookmaker, SimLookupResult } from '../sim/bookmaker.js';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider, SettledPageOutcome, SettlementBatchPort, StatusBatchOutcome } from './provider.js';
import { placeOutcomeOf, toBetView } from './outcome.js';

export class InProcessProvider implements Provider, SettlementBatchPort {
  readonly name: string;
  readonly batch: SettlementBatchPort = this;

  constructor(readonly bookmaker: SimBookmaker) {
    this.name = bookmaker.name;
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    const result = this.bookmaker.place(request);
    // Same mapping as HttpProvider: a 500 or a lost answer leaves the bet in doubt.
    if (result.kind === 'error_500') return { kind: 'in_doubt', detail: 'http_500' };
    if (result.kind === 'no_answer') return { kind: 'in_doubt', detail: 'timeout' };
    return placeOutcomeOf(result.bet);
  }

  async lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    return lookupOutcomeOf(this.bookmaker.lookupByClientRef(clientRef));
  }

  async status(ticketId: string): Promise<LookupOutcome> {
    return lookupOutcomeOf(this.bookmaker.status(ticketId));
  }

  async accountStatus(accountId: string): Promise<AccountStatusOutcome> {
    if (this.bookmaker.sickness() !== null) return { kind: 'unavailable', detail: 'http_500' };
    return { kind: 'found', status: this.bookmaker.accountStatus(accountId) };
  }

  async statuses(ticketIds: readonly string[]): Promise<StatusBatchOutcome> {
    const { bets, notFound } = this.bookmaker.statuses(ticketIds);
    return { kind: 'answered', bets: bets.map(toBetView), notFound };
  }

  async settledSince(accountId: string, cursor: string | null, limit: number): Promise<SettledPageOutcome> {
    const page = this.bookmaker.settledSince(accountId, cursor, limit);
    return { kind: 'answered', bets: page.bets.map(toBetView), cursor: page.cursor, more: page.more };
  }

  async close(): Promise<void> {}
}

function lookupOutcomeOf(result: SimLookupResult): LookupOutcome {
  if (result.kind === 'error_500') return { kind: 'unavailable', detail: 'http_500' };
  if (result.kind === 'not_found') return { kind: 'not_found' };
  return { kind: 'found', bet: toBetView(result.bet) };
}
