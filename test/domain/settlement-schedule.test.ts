// The adaptive settlement schedule of a batch-capable bookmaker's account (pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { betWindow, nextAccountPoll, ticketDeadlineMs, widenWindow, type SchedulePolicy } from '../../src/domain/settlement-schedule.js';

const policy: SchedulePolicy = { pollIntervalMs: 5_000, fastWindowMs: 600_000, backoffMaxMs: 300_000, deadlineMs: 86_400_000 };
const t0 = 1_700_000_000_000;

describe('settlement schedule', () => {
  it('polls every interval inside the fast window, which starts at once when the event end is unknown', () => {
    const window = widenWindow(null, betWindow(t0, null, policy));
    assert.deepEqual(nextAccountPoll(t0 + 1_000, window, 0, policy), { atMs: t0 + 6_000, idlePolls: 0 });
    assert.deepEqual(nextAccountPoll(t0 + 600_000, window, 0, policy), { atMs: t0 + 605_000, idlePolls: 0 });
  });

  it('backs off exponentially after the fast window, up to backoffMaxMs, and comes back to the interval after a result', () => {
    let window = { ...widenWindow(null, betWindow(t0, null, policy)) };
    let nowMs = t0 + 700_000;
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = nextAccountPoll(nowMs, window, 0, policy);
      gaps.push(next.atMs - nowMs);
      window = { ...window, idlePolls: next.idlePolls };
      nowMs = next.atMs;
    }
    assert.deepEqual(gaps, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    assert.deepEqual(nextAccountPoll(nowMs, window, 1, policy), { atMs: nowMs + 5_000, idlePolls: 0 });
  });

  it('before the event is expected to end: backs off, but wakes up when it ends, and the deadline runs from then', () => {
    const endMs = t0 + 3_600_000;
    const window = widenWindow(null, betWindow(t0, endMs, policy));
    assert.deepEqual(window, { hotFromMs: endMs, hotUntilMs: endMs + 600_000, idlePolls: 0 });
    const first = nextAccountPoll(t0, window, 0, policy);
    assert.deepEqual(first, { atMs: t0 + 5_000, idlePolls: 1 });
    const late = nextAccountPoll(endMs - 10_000, { ...window, idlePolls: 10 }, 0, policy);
    assert.equal(late.atMs, endMs, 'never past the start of the fast window');
    assert.equal(ticketDeadlineMs(t0, endMs, policy), endMs + 86_400_000);
    assert.equal(ticketDeadlineMs(t0, null, policy), t0 + 86_400_000);
    assert.equal(ticketDeadlineMs(t0, t0 - 50_000, policy), t0 + 86_400_000, 'an end already past counts from registration');
  });

  it("an account's window is the hull of its bets' windows", () => {
    const a = widenWindow(null, { fromMs: 100, untilMs: 200 });
    const b = widenWindow({ ...a, idlePolls: 4 }, { fromMs: 50, untilMs: 150 });
    assert.deepEqual(b, { hotFromMs: 50, hotUntilMs: 200, idlePolls: 0 });
  });
});
