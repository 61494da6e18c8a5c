// Wire schemas of the reference bookmaker HTTP protocol (see src/sim/PROTOCOL.md), shared by adapter and simulator.
import { z } from 'zod';

/** Longest identifier the protocol carries (client ref, account, event, market, selection, ticket). */
export const idLengthMax = 200;
/** Odds above 1000.000 are not a price any bookmaker quotes; refuse them as bad input. */
export const oddsMilliMax = 1_000_000;

const id = z.string().min(1).max(idLengthMax);

export const placeRequestSchema = z.object({
  clientRef: id,
  accountId: id,
  eventId: id,
  market: id,
  selection: id,
  oddsMilli: z.int().gt(1000).max(oddsMilliMax),
  stakeMinor: z.int().positive(),
  currency: z.string().min(1).max(16),
});

export const betStatusSchema = z.enum(['pending', 'accepted', 'rejected', 'won', 'lost', 'void', 'half_won', 'half_lost']);

/** A bet as the protocol carries it: the Provider's BetView plus the bookmaker's current odds on an odds move. */
export const wireBetSchema = z.object({
  ticketId: id,
  clientRef: id,
  accountId: id,
  status: betStatusSchema,
  oddsMilli: z.int().positive(),
  stakeMinor: z.int().nonnegative(),
  reason: z.string().max(1000).optional(),
  currentOddsMilli: z.int().positive().optional(),
});
export type WireBet = z.infer<typeof wireBetSchema>;

export const placeResponseSchema = z.object({ bet: wireBetSchema, duplicate: z.boolean() });
export const betResponseSchema = z.object({ bet: wireBetSchema });
export const errorResponseSchema = z.object({ error: z.string().max(1000) });

/** The `error` a bookmaker puts in a 404 that means "no such bet" (any other 404 is a routing problem). */
export const notFoundError = 'not_found';

export const accountStatusSchema = z.enum(['active', 'limited', 'suspended']);
/** `GET /accounts/:accountId`: the account's standing at the bookmaker (places nothing). */
export const accountResponseSchema = z.object({ account: z.object({ accountId: id, status: accountStatusSchema }) });

/**
 * Client references of circuit probes start with this: `be1-probe.{uuid}` is looked up to test a bookmaker and is
 * never a bet's (those are `be1.{arbId}.p1`, `be1.{arbId}.hN`).
 */
export const probeRefPrefix = 'be1-probe.';
/** Most tickets one `POST /bets/status` asks about (Pinnacle's bets-by-id list takes up to 100s; ours a round 500). */
export const statusBatchTicketsMax = 500;
/** Most bets one settled-since page carries (the bookmaker may send fewer; `more` says whether to ask again). */
export const settledPageLimitMax = 1000;
/** An opaque position in an account's settlement feed: the bookmaker's to interpret, ours to store and send back. */
const cursorSchema = z.string().min(1).max(idLengthMax);

export const statusBatchRequestSchema = z.object({ ticketIds: z.array(id).min(1).max(statusBatchTicketsMax) });
export const statusBatchResponseSchema = z.object({ bets: z.array(wireBetSchema).max(statusBatchTicketsMax), notFound: z.array(id).max(statusBatchTicketsMax) });
export const settledPageResponseSchema = z.object({ bets: z.array(wireBetSchema).max(settledPageLimitMax), cursor: cursorSchema, more: z.boolean() });
export type SettledPage = z.infer<typeof settledPageResponseSchema>;
