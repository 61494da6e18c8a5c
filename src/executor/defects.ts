// Test-only defect switches: deliberately broken behaviours that prove `bet-executor audit` can say NO.
//
// DELIBERATELY UNSAFE when switched on. They are read from the environment only (never from the worker's
// config file, whose schema refuses unknown keys), and only together with BET_EXECUTOR_TEST_HOOKS=1: a
// BET_EXECUTOR_TEST_DEFECT without it stops the worker at start-up (exit 1) rather than being ignored, so a
// stray variable can neither break production nor be mistaken for a switch that did nothing. A worker with a
// defect on logs a loud warning at start-up.

export const testDefects = ['cooldown_after_bet', 'hedge_before_acceptance', 'no_lookup_before_resend'] as const;
export type TestDefect = (typeof testDefects)[number];

/** Reads BET_EXECUTOR_TEST_DEFECT (comma-separated names); an unknown name or a missing test-hooks flag is refused. */
export function testDefectsFromEnv(env: NodeJS.ProcessEnv = process.env): ReadonlySet<TestDefect> {
  const raw = env.BET_EXECUTOR_TEST_DEFECT;
  if (!raw) return new Set();
  if (env.BET_EXECUTOR_TEST_HOOKS !== '1') {
    throw new Error('BET_EXECUTOR_TEST_DEFECT is a test-only defect switch and needs BET_EXECUTOR_TEST_HOOKS=1');
  }
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!(testDefects as readonly string[]).includes(name)) throw new Error(`BET_EXECUTOR_TEST_DEFECT (${name}) is not one of ${testDefects.join(', ')}`);
  }
  return new Set(names as TestDefect[]);
}
