// The journal document's stored form: format 2 gives back exactly the document encoded; format 1 journals are still read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePairDoc, encodePairDoc } from '../../src/domain/pair-codec.js';
import { newPairDoc, newPlacement, type PairDoc, type Placement } from '../../src/domain/pair.js';
import type { BetPair } from '../../src/domain/types.js';

/** A hedged pair's journal as the executor wrote it before format 2 (a real run of `npm run bench`, 2026-11-24). */
const format1Hedged = '{"version":1,"arbId":"arb-tce0e4ef1-0","jobId":"1","pair":{"arbId":"arb-tce0e4ef1-0","betPairId":"bp-tce0e4ef1-0","whitelabel":"wl1","provider":"bookA","currency":"EUR","createdAtMs":1795563921430,"positive":{"betId":"pos-tce0e4ef1-0","accountId":"accp-tce0e4ef1-0","provider":"bookA","whitelabel":"wl1","eventId":"ev-tce0e4ef1-0","market":"match_winner","selection":"home","oddsMilli":2100,"stakeMinor":10000},"hedge":{"betId":"hed-tce0e4ef1-0","accountId":"acch-tce0e4ef1-0","provider":"bookB","whitelabel":"wl1","eventId":"ev-tce0e4ef1-0","market":"match_winner","selection":"away","oddsMilli":2050,"stakeMinor":10244},"enqueuedAtMs":1795563921432},"state":"hedged","positive":{"role":"positive","attempt":1,"clientRef":"be1.arb-tce0e4ef1-0.p1","provider":"bookA","accountId":"accp-tce0e4ef1-0","stakeMinor":10000,"oddsMilli":2100,"sendCount":1,"status":"accepted","intentAtMs":1795563921442,"ticketId":"bookA-1","acceptedStakeMinor":10000,"acceptedOddsMilli":2100},"hedges":[{"role":"hedge","attempt":1,"clientRef":"be1.arb-tce0e4ef1-0.h1","provider":"bookB","accountId":"acch-tce0e4ef1-0","stakeMinor":10244,"oddsMilli":2050,"sendCount":1,"status":"accepted","intentAtMs":1795563921456,"ticketId":"bookB-1","acceptedStakeMinor":10244,"acceptedOddsMilli":2050}],"createdAtMs":1795563921440,"updatedAtMs":1795563921464,"positiveAcceptedAtMs":1795563921456,"hedgeTargetReturnMinor":21000,"outcomeReason":"executed","hedgedAtMs":1795563921464}';

const t0 = 1_795_563_921_440;

function basePair(over: Partial<BetPair> = {}): BetPair {
  return {
    arbId: 'arb-x1', betPairId: 'bp-x1', whitelabel: 'wl1', provider: 'bookA', currency: 'EUR', createdAtMs: t0 - 10, enqueuedAtMs: t0 - 8,
    positive: { betId: 'pos-x1', accountId: 'accp-x1', provider: 'bookA', whitelabel: 'wl1', eventId: 'ev-x1', market: 'match_winner', selection: 'home', oddsMilli: 2_100, stakeMinor: 10_000 },
    hedge: { betId: 'hed-x1', accountId: 'acch-x1', provider: 'bookB', whitelabel: 'wl1', eventId: 'ev-x1', market: 'match_winner', selection: 'away', oddsMilli: 2_050, stakeMinor: 10_244 },
    ...over,
  };
}

const accepted = (p: Placement, ticketId: string, stakeMinor = p.stakeMinor, oddsMilli = p.oddsMilli): Placement =>
  ({ ...p, status: 'accepted', ticketId, acceptedStakeMinor: stakeMinor, acceptedOddsMilli: oddsMilli });

function hedgedDoc(pair: BetPair = basePair()): PairDoc {
  const doc = newPairDoc(pair, 'job-1', t0);
  return {
    ...doc, state: 'hedged', updatedAtMs: t0 + 24, positiveAcceptedAtMs: t0 + 16, hedgeTargetReturnMinor: 21_000, hedgedAtMs: t0 + 24, outcomeReason: 'executed',
    positive: accepted(newPlacement(pair, 'positive', 1, pair.positive.stakeMinor, pair.positive.oddsMilli, t0 + 2), 'bookA-1'),
    hedges: [accepted(newPlacement(pair, 'hedge', 1, pair.hedge.stakeMinor, pair.hedge.oddsMilli, t0 + 16), 'bookB-1')],
  };
}

/** The document as a format 1 journal holds it: its JSON (no undefined-valued keys). */
const asStored = (doc: PairDoc): PairDoc => JSON.parse(JSON.stringify(doc)) as PairDoc;

function assertRoundTrip(doc: PairDoc): string {
  const json = encodePairDoc(doc);
  assert.deepStrictEqual(decodePairDoc(json), asStored(doc));
  return json;
}

describe('the journal document codec', () => {
  describe('a journal written before format 2 (format 1)', () => {
    it('is read as it was written', () => {
      assert.deepStrictEqual(decodePairDoc(format1Hedged), JSON.parse(format1Hedged));
    });

    it('is written back in format 2 at under half its size, and read back the same', () => {
      const json = assertRoundTrip(decodePairDoc(format1Hedged));
      assert.match(json, /^\{"v":2,/);
      assert.ok(json.length * 2 < format1Hedged.length, `format 2: ${json.length} bytes, format 1: ${format1Hedged.length}`);
    });
  });

  const cases: Array<[string, PairDoc]> = [
    ['a journal just claimed (no placement yet)', newPairDoc(basePair(), 'job-1', t0)],
    ['a scanner that gave no createdAt and the event\'s expected end', newPairDoc(basePair({ createdAtMs: null, enqueuedAtMs: undefined, expectedEndAtMs: t0 + 7_200_000 }), 'j', t0)],
    ['preflight passed: the positive sending, the first hedge planned', (() => {
      const pair = basePair();
      return { ...newPairDoc(pair, 'job-1', t0), state: 'positive_placing' as const, positive: newPlacement(pair, 'positive', 1, 10_000, 2_100, t0 + 1), hedges: [newPlacement(pair, 'hedge', 1, 10_244, 2_050, t0 + 1, 'planned')] };
    })()],
    ['a hedged pair', hedgedDoc()],
    ['legs on other whitelabels, providers, events and markets than the pair\'s', hedgedDoc(basePair({
      positive: { ...basePair().positive, whitelabel: 'wl2', provider: 'bookC' },
      hedge: { ...basePair().hedge, whitelabel: 'wl3', provider: 'bookA', eventId: 'ev-other', market: 'over_under_2.5' },
    }))],
    ['a positive taken in part and a hedge in three attempts, re-priced, resent, one rejected', (() => {
      const doc = hedgedDoc();
      const pair = doc.pair;
      const positive = accepted(newPlacement(pair, 'positive', 1, 10_000, 2_100, t0 + 2), 'bookA-1', 3_000, 2_080);
      const h1: Placement = { ...newPlacement(pair, 'hedge', 1, 3_073, 2_050, t0 + 16), status: 'rejected', reason: 'odds_changed', sendCount: 3 };
      const h2 = accepted(newPlacement(pair, 'hedge', 2, 3_100, 2_010, t0 + 40), 'bookB-2', 1_000);
      const h3: Placement = { ...newPlacement(pair, 'hedge', 3, 2_100, 2_010, t0 + 80), status: 'in_doubt', reason: 'lookups failed' };
      return { ...doc, state: 'hedge_in_doubt' as const, positive, hedges: [h1, h2, h3], outcomeReason: 'hedge_in_doubt' };
    })()],
    ['placements whose reference, account or attempt are not the ones derived (never written today)', (() => {
      const doc = hedgedDoc();
      const positive = { ...(doc.positive as Placement), clientRef: 'legacy-ref-1', accountId: 'acc-moved', provider: 'bookZ' };
      const hedge = { ...(doc.hedges[0] as Placement), attempt: 4 };
      return { ...doc, positive, hedges: [hedge] };
    })()],
    ['a settled pair with its reconciliation', {
      ...hedgedDoc(), state: 'settled' as const, updatedAtMs: t0 + 90_000,
      settlement: { results: { 'be1.arb-x1.p1': 'won', 'be1.arb-x1.h1': 'lost' }, positiveStatus: 'won', hedgeStatus: 'lost', pnlMinor: 756, exposureReason: null, actualOutcome: 'positive_won', settledAtMs: t0 + 90_000, placement: 'hedged', reconciliation: 1 },
    }],
  ];
  for (const [name, doc] of cases) {
    it(`gives back ${name} exactly`, () => {
      assertRoundTrip(doc);
    });
  }

  it('gives back any mix of derived and written fields (500 random documents)', () => {
    let seed = 12_345;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const pick = <T>(a: T, b: T): T => (random() < 0.5 ? a : b);
    for (let i = 0; i < 500; i++) {
      const base = basePair();
      const pair = basePair({
        createdAtMs: pick(null, t0 - Math.floor(random() * 5_000)), enqueuedAtMs: pick(undefined, t0 - 3), expectedEndAtMs: pick(undefined, t0 + 9_000_000),
        positive: { ...base.positive, provider: pick('bookA', 'bookC'), whitelabel: pick('wl1', 'wl9') },
        hedge: { ...base.hedge, provider: pick('bookA', 'bookB'), eventId: pick('ev-x1', 'ev-y'), market: pick('match_winner', 'ah'), whitelabel: pick('wl1', 'wl2') },
      });
      const hedges = Array.from({ length: Math.floor(random() * 4) }, (_, k) => {
        const p = newPlacement(pair, 'hedge', pick(k + 1, k + 2), pick(pair.hedge.stakeMinor, 1 + k), pick(pair.hedge.oddsMilli, 1_990), t0 + 10 * k, pick('sending' as const, 'planned' as const));
        return pick(p, accepted({ ...p, sendCount: pick(1, 2) }, `B-${k}`, pick(p.stakeMinor, 1), pick(p.oddsMilli, 2_222)));
      });
      const positive = pick(null, accepted(newPlacement(pair, 'positive', 1, pick(10_000, 9_000), 2_100, t0 + 1), 'A-1', pick(10_000, 4_000)));
      const doc: PairDoc = { ...newPairDoc(pair, pick('1', `job-${i}`), t0), state: 'hedge_placing', positive, hedges, ...(random() < 0.5 ? { hedgedAtMs: t0 + 5, hedgeTargetReturnMinor: 20_999 } : {}) };
      assertRoundTrip(doc);
    }
  });

  it('refuses a document of an unknown format', () => {
    assert.throws(() => decodePairDoc('{"v":3,"id":"arb-x1"}'), /unknown format/);
    assert.throws(() => decodePairDoc('{"arbId":"arb-x1"}'), /unknown format/);
  });

  it('refuses to write a document with a field it does not know (it would be lost)', () => {
    assert.throws(() => encodePairDoc({ ...hedgedDoc(), note: 'x' } as PairDoc), /fields the codec does not know/);
    const doc = hedgedDoc();
    assert.throws(() => encodePairDoc({ ...doc, positive: { ...(doc.positive as Placement), extra: 1 } as Placement }), /does not know/);
  });

  it('refuses to write a placement outside its role\'s slot (its role could not be read back)', () => {
    const doc = hedgedDoc();
    assert.throws(() => encodePairDoc({ ...doc, hedges: [doc.positive as Placement] }), /in the hedge slot/);
  });
});
