// Reads the operator's worker config and flags risky settings, each with its reason (warnings, not verdict items).
import { configSchema, type Config } from '../config.js';
import { cooldownHoldMs } from '../domain/cooldown.js';
import { cooldownTimingsOf } from '../executor/run.js';

export interface ConfigWarning {
  key: string;
  value: string;
  reason: string;
}

/** Pre-match markets settle hours after the bet: a poll budget shorter than this ends such pairs as settlement_timeout. */
export const preMatchPollBudgetMsMin = 6 * 3_600_000;
export const seedCooldownMs = 60_000;

/**
 * The soonest a pair whose worker died is resumed by another: its BullMQ job is found stalled (its lock lapsed,
 * then the next stalled check) and its lease has lapsed.
 */
export function resumeSoonestMs(config: Config): number {
  return Math.max(config.jobLockMs + config.stalledCheckMs, config.lockTtlMs);
}

/**
 * The shortest hold of an account after a pending answer (domain/cooldown.ts, 'pending'), over the providers: a
 * worker that dies then leaves the account held this long, and the bookmaker may still take the bet after it.
 */
export function pendingHoldMinMs(config: Config): number {
  const names = Object.keys(config.providers);
  const holds = names.map((name) => cooldownHoldMs('pending', cooldownTimingsOf(config, name)));
  return holds.length === 0 ? cooldownHoldMs('pending', cooldownTimingsOf(config, '')) : Math.min(...holds);
}

export function reviewConfig(config: Config, raw: Record<string, unknown>): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const warn = (key: string, value: unknown, reason: string) => warnings.push({ key, value: JSON.stringify(value), reason });
  if (config.cooldownMs < seedCooldownMs) warn('cooldownMs', config.cooldownMs, `below the seed's 60 s: an account bets again sooner than the bookmakers were assumed to tolerate`);
  const pendingHoldMs = pendingHoldMinMs(config);
  const resumeMs = resumeSoonestMs(config);
  if (pendingHoldMs <= resumeMs) {
    warn('cooldownMs vs jobLockMs + stalledCheckMs, lockTtlMs', `hold ${pendingHoldMs} ms, resume ${resumeMs} ms`, `a worker that dies while a bet is pending leaves its account held ${pendingHoldMs} ms after the last status answer, but its pair is resumed (and the account held again) ${resumeMs} ms later at the soonest: between the two another pair may bet on the account while the bookmaker can still take ours (raise cooldownMs, or lower jobLockMs, stalledCheckMs and lockTtlMs)`);
  }
  const budgetMs = config.settlementPollIntervalMs * config.settlementPollCountMax;
  if (budgetMs < preMatchPollBudgetMsMin) warn('settlementPollIntervalMs × settlementPollCountMax', `${budgetMs} ms`, `a poll budget of ${Math.round(budgetMs / 60_000)} min suits in-play only: a pre-match bet settling hours later ends as a settlement_timeout exposure (raise the count or the interval)`);
  const replicas = (raw as { journalReplicasMin?: unknown }).journalReplicasMin;
  if ('journalReplicasMin' in configSchema.shape && replicas === 0) warn('journalReplicasMin', 0, 'journal intents are not confirmed on a replica before a bet leaves: a failover can lose the last intents and a resumed pair re-sends');
  if (config.rateLimit.placementsMax > 1_000) warn('rateLimit.placementsMax', config.rateLimit.placementsMax, 'effectively no rate limit per account');
  if (config.hedgeAttemptsMax < 2) warn('hedgeAttemptsMax', config.hedgeAttemptsMax, 'a single hedge refusal leaves the positive unhedged (exposure)');
  if (config.worstCaseMinorMin < 0) warn('worstCaseMinorMin', config.worstCaseMinorMin, 'pairs that lose money in some outcome are accepted');
  if (config.resettlementCheckDelayMs === 0) warn('resettlementCheckDelayMs', 0, 're-settled results (won → void) are never seen');
  if (config.metricsPort === undefined) warn('metricsPort', 'unset', 'no /metrics endpoint: Prometheus cannot see exposures or in-doubt placements');
  if (Object.keys(raw).length === 0) return warnings; // the defaults: no providers of yours to look at
  const keyless = Object.entries(config.providers).filter(([, p]) => !(p as { credentials?: unknown }).credentials).map(([name]) => name);
  if (keyless.length > 0) warn('providers.*.credentials', keyless.join(', '), 'no bookmaker key configured: requests carry no Authorization header');
  return warnings;
}

/** Notes on what the build lacks that a config might expect (stated, not warned). */
export function missingSettings(): string[] {
  return 'journalReplicasMin' in configSchema.shape ? [] : ['journalReplicasMin: not in this version (no replica confirmation of journal intents to check)'];
}
