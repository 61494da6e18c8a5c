// How long an account's cooldown is held: a cooldown past the last moment the bookmaker could take our request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { claimLeadMs, cooldownHoldMs, type CooldownTimings, type HoldReason } from '../../src/domain/cooldown.js';

const production: CooldownTimings = { cooldownMs: 60_000, requestTimeoutMs: 5_000, lateCommitGraceMs: 2_000, inDoubtPollMs: 250 };
const chaos: CooldownTimings = { cooldownMs: 300, requestTimeoutMs: 250, lateCommitGraceMs: 1_500, inDoubtPollMs: 50 };

describe('cooldown holds', () => {
  const rows: Array<{ name: string; t: CooldownTimings; reason: HoldReason; want: number }> = [
    { name: 'production claim: cooldown + lead (one timeout) + the request\'s timeout + the late-commit grace', t: production, reason: 'claim', want: 72_000 },
    { name: 'production answer: a cooldown from now', t: production, reason: 'answered', want: 60_000 },
    { name: 'production pending: a cooldown past the next status answer', t: production, reason: 'pending', want: 70_250 },
    { name: 'chaos claim: the lead is a third of the cooldown', t: chaos, reason: 'claim', want: 2_150 },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.want} ms`, () => assert.equal(cooldownHoldMs(row.reason, row.t), row.want));
  }

  it('a claim covers a request leaving within its lead: held a cooldown past its timeout and a late commit after it', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 86_400_000 }), fc.integer({ min: 1, max: 120_000 }), fc.integer({ min: 0, max: 600_000 }),
      (cooldownMs, requestTimeoutMs, lateCommitGraceMs) => {
        const t = { ...production, cooldownMs, requestTimeoutMs, lateCommitGraceMs };
        const leadMs = claimLeadMs(t);
        assert.ok(leadMs >= 1 && leadMs <= requestTimeoutMs);
        // The latest a request sent on this claim can be taken: it leaves within the lead, is abandoned a
        // timeout later, and may still be committed late for the grace.
        const lastTakenMs = leadMs + requestTimeoutMs + lateCommitGraceMs;
        assert.ok(cooldownHoldMs('claim', t) >= lastTakenMs + cooldownMs);
        assert.ok(cooldownHoldMs('claim', t) <= cooldownMs + 2 * requestTimeoutMs + lateCommitGraceMs, 'never more than two timeouts and the grace over a cooldown');
      },
    ));
  });
});
