// Maps a bookmaker's answer about a bet to the Provider port's outcomes; shared by every adapter.
import { assertNever } from '../domain/types.js';
import type { BetView, PlaceOutcome } from './provider.js';
import type { WireBet } from './protocol.js';

/** The port's view of a wire bet: only BetView's fields, no undefined-valued keys. */
export function toBetView(bet: WireBet): BetView {
  const view: BetView = {
    ticketId: bet.ticketId,
    clientRef: bet.clientRef,
    accountId: bet.accountId,
    status: bet.status,
    oddsMilli: bet.oddsMilli,
    stakeMinor: bet.stakeMinor,
  };
  if (bet.reason !== undefined) view.reason = bet.reason;
  return view;
}

/** The outcome of a placement whose answer carried a bet. A settled bet was, by definition, accepted. */
export function placeOutcomeOf(bet: WireBet): PlaceOutcome {
  const view = toBetView(bet);
  switch (bet.status) {
    case 'accepted':
    case 'won':
    case 'lost':
    case 'void':
    case 'half_won':
    case 'half_lost':
      return { kind: 'accepted', bet: view };
    case 'pending':
      return { kind: 'pending', bet: view };
    case 'rejected': {
      const outcome: PlaceOutcome = { kind: 'rejected', reason: bet.reason ?? 'rejected', bet: view };
      if (bet.currentOddsMilli !== undefined) outcome.currentOddsMilli = bet.currentOddsMilli;
      return outcome;
    }
    default:
      return assertNever(bet.status, 'bet status');
  }
}
