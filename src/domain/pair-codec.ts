// The pair journal's stored form (be:pair:{arbId} field `doc`): a compact JSON of the PairDoc, and the reader of every form written.
//
// Format 2 (written since issue 12's memory target) stores the same PairDoc as format 1 (the plain JSON of the document)
// without what is derivable and with short keys; decoding gives back exactly the document that was encoded.
// Derivable, so left out when it equals what it derives from (written in full when it does not):
//   pair.arbId (= arbId); a leg's provider / whitelabel (= the pair's); the hedge leg's eventId / market (= the
//   positive leg's); a placement's role (its slot), attempt (1, or its 1-based place in `hedges`), clientRef
//   (clientRefFor), provider / accountId / stakeMinor / oddsMilli (= its leg's), sendCount 1, acceptedStakeMinor /
//   acceptedOddsMilli (`true` = the requested stake / odds).
// Timestamps but the document's createdAtMs are stored as offsets from it (`t`), in ms: exact, since they are integers
// (validation and clocks give whole ms) and, even if one were not, two times within a factor 2 subtract exactly (Sterbenz).
// Keys (a legend for reading a journal with redis-cli):
//   document  v format · id arbId · j jobId · s state · t createdAtMs · u updatedAtMs · P positive · H hedges ·
//             ht hedgeTargetReturnMinor · pa positiveAcceptedAtMs · ha hedgedAtMs · se settlement (as is) · or outcomeReason
//   pair      bp betPairId · wl whitelabel · pv provider · cu currency · ca createdAtMs (null kept) · eq enqueuedAtMs ·
//             ee expectedEndAtMs · lp / lh the positive / hedge leg
//   leg       b betId · a accountId · pv provider · wl whitelabel · ev eventId · m market · se selection · o oddsMilli · k stakeMinor
//   placement n attempt · r clientRef · pv provider · a accountId · k stakeMinor · o oddsMilli · c sendCount · s status ·
//             t intentAtMs · tk ticketId · ak acceptedStakeMinor · ao acceptedOddsMilli · x reason
import type { PairSettlement } from './pair-settlement.js';
import { clientRefFor, type PairDoc, type PairState, type Placement, type PlacementStatus } from './pair.js';
import type { BetPair, LegInput, LegRole } from './types.js';
import { invariant } from './types.js';

/** The stored format written now; 1 (the plain document JSON, `"version":1`) is still read. */
export const pairDocFormat = 2;

interface StoredLeg {
  b: string; a: string; pv?: string; wl?: string; ev?: string; m?: string; se: string; o: number; k: number;
}

interface StoredPlacement {
  n?: number; r?: string; pv?: string; a?: string; k?: number; o?: number; c?: number; s: PlacementStatus; t: number;
  tk?: string; ak?: number | true; ao?: number | true; x?: string;
}

interface StoredDoc {
  v: 2; id: string; j: string; s: PairState; t: number; u: number;
  bp: string; wl: string; pv: string; cu: string; ca: number | null; eq?: number; ee?: number; lp: StoredLeg; lh: StoredLeg;
  P?: StoredPlacement; H?: StoredPlacement[]; ht?: number; pa?: number; ha?: number; se?: PairSettlement; or?: string;
}

/** Fields of `T` the codec does not know of: a compile error when a field is added to the document and not here. */
type Unhandled<T> = Record<keyof T, never>;

/** The JSON stored in the journal for `doc` (format 2). */
export function encodePairDoc(doc: PairDoc): string {
  const {
    version, arbId, jobId, pair, state, positive, hedges, hedgeTargetReturnMinor, positiveAcceptedAtMs, hedgedAtMs,
    settlement, outcomeReason, createdAtMs, updatedAtMs, ...rest
  } = doc;
  const unhandled: Unhandled<typeof rest> = rest;
  invariant(version === 1 && Object.keys(unhandled).length === 0, `pair document ${arbId} has fields the codec does not know`);
  const { arbId: pairArbId, betPairId, whitelabel, provider, currency, createdAtMs: pairCreatedAtMs, enqueuedAtMs, expectedEndAtMs, positive: lp, hedge: lh, ...pairRest } = pair;
  const pairUnhandled: Unhandled<typeof pairRest> = pairRest;
  invariant(pairArbId === arbId && Object.keys(pairUnhandled).length === 0, `pair document ${arbId}: its pair is ${pairArbId} or has unknown fields`);
  const at = (ms: number | undefined) => (ms === undefined ? undefined : ms - createdAtMs);
  const stored: StoredDoc = {
    v: 2, id: arbId, j: jobId, s: state, t: createdAtMs, u: updatedAtMs - createdAtMs,
    bp: betPairId, wl: whitelabel, pv: provider, cu: currency, ca: pairCreatedAtMs === null ? null : pairCreatedAtMs - createdAtMs,
    eq: at(enqueuedAtMs), ee: at(expectedEndAtMs), lp: encodeLeg(lp, pair, null), lh: encodeLeg(lh, pair, lp),
    P: positive === null ? undefined : encodePlacement(positive, 'positive', 1, doc),
    H: hedges.length === 0 ? undefined : hedges.map((h, i) => encodePlacement(h, 'hedge', i + 1, doc)),
    ht: hedgeTargetReturnMinor, pa: at(positiveAcceptedAtMs), ha: at(hedgedAtMs), se: settlement, or: outcomeReason,
  };
  return JSON.stringify(stored);
}

/** The document in a journal's `doc` field, whichever format wrote it. */
export function decodePairDoc(json: string): PairDoc {
  const parsed = JSON.parse(json) as { v?: unknown; version?: unknown };
  if (parsed.v === 2) return decodeStored(parsed as StoredDoc);
  invariant(parsed.version === 1, `pair journal document of unknown format: v ${String(parsed.v)}, version ${String(parsed.version)}`);
  return parsed as PairDoc;
}

function decodeStored(s: StoredDoc): PairDoc {
  const positiveLeg = decodeLeg(s.lp, s, null);
  const pair: BetPair = {
    arbId: s.id, betPairId: s.bp, whitelabel: s.wl, provider: s.pv, currency: s.cu, createdAtMs: s.ca === null ? null : s.t + s.ca,
    positive: positiveLeg, hedge: decodeLeg(s.lh, s, positiveLeg),
  };
  // Optional fields are set only when stored: a decoded document has no undefined-valued keys (as format 1's JSON).
  if (s.eq !== undefined) pair.enqueuedAtMs = s.t + s.eq;
  if (s.ee !== undefined) pair.expectedEndAtMs = s.t + s.ee;
  const doc: PairDoc = {
    version: 1, arbId: s.id, jobId: s.j, pair, state: s.s,
    positive: s.P === undefined ? null : decodePlacement(s.P, 'positive', 1, pair, s.t),
    hedges: (s.H ?? []).map((h, i) => decodePlacement(h, 'hedge', i + 1, pair, s.t)),
    createdAtMs: s.t, updatedAtMs: s.t + s.u,
  };
  if (s.ht !== undefined) doc.hedgeTargetReturnMinor = s.ht;
  if (s.pa !== undefined) doc.positiveAcceptedAtMs = s.t + s.pa;
  if (s.ha !== undefined) doc.hedgedAtMs = s.t + s.ha;
  if (s.se !== undefined) doc.settlement = s.se;
  if (s.or !== undefined) doc.outcomeReason = s.or;
  return doc;
}

/** `value` unless it equals `derived` (then left out). */
const unlessDerived = <T>(value: T, derived: T): T | undefined => (value === derived ? undefined : value);

function encodeLeg(leg: LegInput, pair: BetPair, positiveLeg: LegInput | null): StoredLeg {
  const { betId, accountId, provider, whitelabel, eventId, market, selection, oddsMilli, stakeMinor, ...rest } = leg;
  const unhandled: Unhandled<typeof rest> = rest;
  invariant(Object.keys(unhandled).length === 0, `leg ${betId} has fields the codec does not know`);
  // The positive leg's provider is the pair's; the hedge's defaults to it too (validation fills both in).
  return {
    b: betId, a: accountId, pv: unlessDerived(provider, pair.provider), wl: unlessDerived(whitelabel, pair.whitelabel),
    ev: positiveLeg === null ? eventId : unlessDerived(eventId, positiveLeg.eventId),
    m: positiveLeg === null ? market : unlessDerived(market, positiveLeg.market),
    se: selection, o: oddsMilli, k: stakeMinor,
  };
}

function decodeLeg(s: StoredLeg, doc: StoredDoc, positiveLeg: LegInput | null): LegInput {
  const eventId = s.ev ?? positiveLeg?.eventId;
  const market = s.m ?? positiveLeg?.market;
  invariant(eventId !== undefined && market !== undefined, `journal of ${doc.id}: a positive leg without its event or market`);
  return { betId: s.b, accountId: s.a, provider: s.pv ?? doc.pv, whitelabel: s.wl ?? doc.wl, eventId, market, selection: s.se, oddsMilli: s.o, stakeMinor: s.k };
}

function encodePlacement(p: Placement, slotRole: LegRole, slotAttempt: number, doc: PairDoc): StoredPlacement {
  const { role, attempt: pAttempt, clientRef, provider, accountId, stakeMinor, oddsMilli, sendCount, status, intentAtMs, ticketId, acceptedStakeMinor, acceptedOddsMilli, reason, ...rest } = p;
  const unhandled: Unhandled<typeof rest> = rest;
  invariant(Object.keys(unhandled).length === 0, `placement ${clientRef} has fields the codec does not know`);
  // The slot gives the role back: a hedge in `positive` (or the reverse) could not be read back as it was.
  invariant(role === slotRole, `placement ${clientRef} (${role}) is in the ${slotRole} slot`);
  const leg = role === 'positive' ? doc.pair.positive : doc.pair.hedge;
  return {
    n: unlessDerived(pAttempt, slotAttempt), r: unlessDerived(clientRef, clientRefFor(doc.arbId, role, pAttempt)),
    pv: unlessDerived(provider, leg.provider), a: unlessDerived(accountId, leg.accountId),
    k: unlessDerived(stakeMinor, leg.stakeMinor), o: unlessDerived(oddsMilli, leg.oddsMilli), c: unlessDerived(sendCount, 1),
    s: status, t: intentAtMs - doc.createdAtMs, tk: ticketId,
    ak: acceptedStakeMinor === stakeMinor ? true : acceptedStakeMinor, ao: acceptedOddsMilli === oddsMilli ? true : acceptedOddsMilli, x: reason,
  };
}

function decodePlacement(s: StoredPlacement, role: LegRole, slotAttempt: number, pair: BetPair, createdAtMs: number): Placement {
  const leg = role === 'positive' ? pair.positive : pair.hedge;
  const attempt = s.n ?? slotAttempt;
  const stakeMinor = s.k ?? leg.stakeMinor;
  const oddsMilli = s.o ?? leg.oddsMilli;
  const placement: Placement = {
    role, attempt, clientRef: s.r ?? clientRefFor(pair.arbId, role, attempt), provider: s.pv ?? leg.provider, accountId: s.a ?? leg.accountId,
    stakeMinor, oddsMilli, sendCount: s.c ?? 1, status: s.s, intentAtMs: createdAtMs + s.t,
  };
  if (s.tk !== undefined) placement.ticketId = s.tk;
  if (s.ak !== undefined) placement.acceptedStakeMinor = s.ak === true ? stakeMinor : s.ak;
  if (s.ao !== undefined) placement.acceptedOddsMilli = s.ao === true ? oddsMilli : s.ao;
  if (s.x !== undefined) placement.reason = s.x;
  return placement;
}
