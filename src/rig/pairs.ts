// The rig's bet pair: one valid arb (worst case +756 minor units) on two accounts named after its id (bookA
// positive, bookB hedge), as a scanner would enqueue it. Tests, the audit and the bench build theirs from it.

export type PairFixture = Record<string, unknown> & {
  arbId: string;
  betPairId: string;
  whitelabel: string;
  positiveBet: Record<string, unknown> & { accountId: string };
  hedgeBet: Record<string, unknown> & { accountId: string; provider: string };
};

export interface PairLegs {
  positive?: Record<string, unknown>;
  hedge?: Record<string, unknown>;
}

/** The pair `arb-{id}` on accounts `accp-{id}` / `acch-{id}` (no cooldown shared with another id); legs and fields overridable. */
export function pairFixture(id: string, legs: PairLegs = {}, overrides: Record<string, unknown> = {}): PairFixture {
  return {
    arbId: `arb-${id}`,
    betPairId: `bp-${id}`,
    whitelabel: 'wl1',
    provider: 'bookA',
    currency: 'EUR',
    createdAt: new Date().toISOString(),
    positiveBet: { betId: `pos-${id}`, accountId: `accp-${id}`, provider: 'bookA', eventId: `ev-${id}`, market: 'match_winner', selection: 'home', odds: '2.100', stakeMinor: 10_000, ...legs.positive },
    hedgeBet: { betId: `hed-${id}`, accountId: `acch-${id}`, provider: 'bookB', eventId: `ev-${id}`, market: 'match_winner', selection: 'away', odds: '2.050', stakeMinor: 10_244, ...legs.hedge },
    ...overrides,
  } as PairFixture;
}
