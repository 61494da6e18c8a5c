// The worker's two clocks: wall time for records, a monotonic clock for every duration the process measures.
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Wall-clock unix ms: timestamps in records and events only. It can jump (NTP steps, a VM resumed). */
  nowMs(): number;
  /**
   * Monotonic ms (performance.now): leases, cooldown freshness, deadlines, back-offs. It never goes back,
   * so a wall-clock step cannot make a lease or a cooldown claim look fresher than it is.
   */
  monoMs(): number;
}

export function systemClock(): Clock {
  return { nowMs: () => Date.now(), monoMs: () => performance.now() };
}

export const clockStepMsDefault = -5_000;

/**
 * Test hook (with BET_EXECUTOR_TEST_HOOKS=1 only, like the crash hook): each SIGUSR2 steps this process's
 * wall clock by BET_EXECUTOR_CLOCK_STEP_MS (default -5000), as an NTP step would. The monotonic clock is
 * untouched. Without the hook the system clock is returned as it is.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env, onStep?: (offsetMs: number) => void): Clock {
  const system = systemClock();
  if (env.BET_EXECUTOR_TEST_HOOKS !== '1') {
    if (env.BET_EXECUTOR_CLOCK_STEP_MS !== undefined) throw new Error('BET_EXECUTOR_CLOCK_STEP_MS is a test hook and needs BET_EXECUTOR_TEST_HOOKS=1');
    return system;
  }
  const stepMs = env.BET_EXECUTOR_CLOCK_STEP_MS === undefined ? clockStepMsDefault : Number(env.BET_EXECUTOR_CLOCK_STEP_MS);
  if (!Number.isSafeInteger(stepMs)) throw new Error(`BET_EXECUTOR_CLOCK_STEP_MS (${env.BET_EXECUTOR_CLOCK_STEP_MS}) is not an integer`);
  let offsetMs = 0;
  process.on('SIGUSR2', () => {
    offsetMs += stepMs;
    onStep?.(offsetMs);
  });
  return { nowMs: () => Date.now() + offsetMs, monoMs: system.monoMs };
}
