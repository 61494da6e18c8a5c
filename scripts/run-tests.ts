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

const filter = process.argv.slice(2);
const files = testFiles('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));
const redis = await startPrivateRedis({ databases: 1024 });
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
      stdio: 'inherit',
      env: { ...process.env, TEST_REDIS_URL: redis.url },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
} finally {
  await redis.stop();
}
process.exit(code);
