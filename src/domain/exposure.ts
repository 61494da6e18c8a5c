// The exposure record (DESIGN.md field names) and its alert event, built from a pair's journal.
import type { PairDoc } from './pair.js';

/** Exposures raised while placing (settlement raises the seed's reconciliation reasons). */
export const placementExposureReasons = ['hedge_failed_positive_active', 'positive_in_doubt', 'hedge_in_doubt', 'positive_settled_before_hedge'] as const;
export type PlacementExposureReason = (typeof placementExposureReasons)[number];

export interface ExposureRecord {
  bet_pair_id: string;
  arb_id: string;
  whitelabel: string;
  positive_provider: string;
  hedge_provider: string;
  positive_ticket: string | null;
  hedge_ticket: string | null;
  positive_status: string;
  hedge_status: string;
  exposure_reason: string;
  detected_at: string;
  expected_outcome: 'arb_profit';
  actual_outcome: string;
  requires_manual_review: true;
  auto_rebet_disabled: true;
  detail: string;
  [extra: string]: unknown;
}

export function exposureRecord(
  doc: PairDoc,
  reason: string,
  statuses: { positive: string; hedge: string },
  detail: string,
  nowMs: number,
  extra: Record<string, unknown> = {},
): ExposureRecord {
  const acceptedHedge = doc.hedges.find((h) => h.status === 'accepted');
  return {
    bet_pair_id: doc.pair.betPairId,
    arb_id: doc.arbId,
    whitelabel: doc.pair.whitelabel,
    positive_provider: doc.pair.positive.provider,
    hedge_provider: doc.pair.hedge.provider,
    positive_ticket: doc.positive?.ticketId ?? null,
    hedge_ticket: acceptedHedge?.ticketId ?? null,
    positive_status: statuses.positive,
    hedge_status: statuses.hedge,
    exposure_reason: reason,
    detected_at: new Date(nowMs).toISOString(),
    expected_outcome: 'arb_profit',
    actual_outcome: `${statuses.positive}_${statuses.hedge}`,
    requires_manual_review: true,
    auto_rebet_disabled: true,
    detail,
    ...extra,
  };
}

/** The exposure_alert event: the record plus the two flags operators filter on. */
export function exposureAlertData(record: ExposureRecord, exposureKey: string): Record<string, unknown> {
  return {
    arbId: record.arb_id,
    betPairId: record.bet_pair_id,
    whitelabel: record.whitelabel,
    exposureKey,
    exposure_reason: record.exposure_reason,
    requiresManualReview: true,
    autoRebetDisabled: true,
    record,
  };
}
