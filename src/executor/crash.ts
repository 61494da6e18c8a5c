// Test-only hook: kill this process (SIGKILL) at a named step of the saga, to prove crash recovery.
import type { CrashPoint } from './run.js';
import { crashPoints } from './run.js';

/**
 * Reads BET_EXECUTOR_CRASH_AT. It works only with BET_EXECUTOR_TEST_HOOKS=1 as well, so a stray variable
 * in production cannot kill a worker; an unknown step name is refused at start-up.
 */
export function crashHookFromEnv(env: NodeJS.ProcessEnv = process.env): (point: CrashPoint) => void {
  const at = env.BET_EXECUTOR_CRASH_AT;
  if (!at) return () => undefined;
  if (env.BET_EXECUTOR_TEST_HOOKS !== '1') {
    throw new Error('BET_EXECUTOR_CRASH_AT is a test hook and needs BET_EXECUTOR_TEST_HOOKS=1');
  }
  if (!(crashPoints as readonly string[]).includes(at)) {
    throw new Error(`BET_EXECUTOR_CRASH_AT (${at}) is not one of ${crashPoints.join(', ')}`);
  }
  return (point) => {
    if (point === at) process.kill(process.pid, 'SIGKILL');
  };
}
