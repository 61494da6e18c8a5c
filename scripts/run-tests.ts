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
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
      stdio: 'inherit',
      // Its own process group, so the watchdog stops the test files' processes with it.
      detached: true,
      env: { ...process.env, TEST_REDIS_URL: redis.url },
    });
    // A test file that never exits (a handle left open) must fail the run, not hold CI until its limit.
    const watchdog = setTimeout(() => {
      console.error(`[tests] still running after ${runMsMax / 60_000} min: a test file did not exit (an open handle?); stopping the run`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, runMsMax);
    // Detached, it no longer gets the terminal's Ctrl-C: pass it on.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { if (child.pid !== undefined) process.kill(-child.pid, sig); });
    child.on('exit', (c, signal) => {
      clearTimeout(watchdog);
      resolve(c ?? (signal ? 1 : 0));
    });
  });
} finally {
  await redis.stop();
}
process.exit(code);
