// Test entry (`npm test`): starts one private redis-server for the run, runs every test file with
// node's test runner (each file gets its own Redis database), then stops the server.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startPrivateRedis } from '../src/infra/redis-server.js';

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** The whole run's limit (TEST_RUN_MS_MAX overrides): the suite takes a few minutes here. */
const runMsMax = Number(process.env.TEST_RUN_MS_MAX ?? 30 * 60_000);
const filter = process.argv.slice(2);
const files = testFiles('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
const redis = await startPrivateRedis({ databases: 1024 });
/**
 * The audit's tests start whole worlds of processes and judge timings live: they run on their own, after the
 * rest, so that two of them never share the 2 cores with the chaos tests (they flaked under that load).
 */
const alone = (f: string) => f.startsWith(join('test', 'audit'));
const phases = [{ files: files.filter((f) => !alone(f)), concurrency: 2 }, { files: files.filter(alone), concurrency: 1 }].filter((p) => p.files.length > 0);
const startedMs = Date.now();

function runPhase(phaseFiles: string[], concurrency: number): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...phaseFiles], {
      stdio: 'inherit',
      // Its own process group, so the watchdog stops the test files' processes with it.
      detached: true,
      env: { ...process.env, TEST_REDIS_URL: redis.url },
    });
    // A test file that never exits (a handle left open) must fail the run, not hold CI until its limit.
    const watchdog = setTimeout(() => {
      console.error(`[tests] still running after ${runMsMax / 60_000} min: a test file did not exit (an open handle?); stopping the run`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, Math.max(0, runMsMax - (Date.now() - startedMs)));
    // Detached, it no longer gets the terminal's Ctrl-C: pass it on.
    const forward = (sig: NodeJS.Signals) => { if (child.pid !== undefined) process.kill(-child.pid, sig); };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (c, signal) => {
      clearTimeout(watchdog);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
}

let code = 0;
try {
  for (const phase of phases) {
    const phaseCode = await runPhase(phase.files, phase.concurrency);
    if (phaseCode !== 0) code = phaseCode;
  }
} finally {
  await redis.stop();
}
process.exit(code);
