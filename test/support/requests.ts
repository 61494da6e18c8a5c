// A valid placement request for the simulator and provider tests, each with its own client reference.
import type { PlaceRequest } from '../../src/providers/provider.js';

let seq = 0;

export function placeRequest(overrides: Partial<PlaceRequest> = {}): PlaceRequest {
  seq += 1;
  return {
    clientRef: `ref-${seq}`,
    accountId: 'acc-1',
    eventId: 'ev-1',
    market: 'match_winner',
    selection: 'home',
    oddsMilli: 2050,
    stakeMinor: 1000,
    currency: 'EUR',
    ...overrides,
  };
}
