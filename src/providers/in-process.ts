// InProcessProvider: the Provider port on a SimBookmaker in the same process (unit tests, conformance reference).
import type { SimBookmaker, SimLookupResult } from '../sim/bookmaker.js';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from './provider.js';
import { placeOutcomeOf, toBetView } from './outcome.js';

export class InProcessProvider implements Provider {
  readonly name: string;

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

  async close(): Promise<void> {}
}

function lookupOutcomeOf(result: SimLookupResult): LookupOutcome {
  if (result.kind === 'error_500') return { kind: 'unavailable', detail: 'http_500' };
  if (result.kind === 'not_found') return { kind: 'not_found' };
  return { kind: 'found', bet: toBetView(result.bet) };
}
