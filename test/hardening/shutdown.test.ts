// A worker process stopped while its Redis is gone: the shutdown is bounded, and a second signal exits at once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startPrivateRedis } from '../../src/infra/redis-server.js';
import { createHarness, type Harness } from '../support/harness.js';

describe('worker shutdown while Redis is down', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-shutdown-'));
  const shutdownTimeoutMs = 1_500;

  before(async () => {
    h = await createHarness({ shutdownTimeoutMs });
  });
  after(async () => h.close());

  function logLines(file: string): Array<Record<string, unknown>> {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** A worker process on a Redis of its own, started, and then that Redis stopped under it. */
  async function workerWithRedisGone(name: string): Promise<{ child: ChildProcess; file: string }> {
    const redis = await startPrivateRedis();
    const file = join(dir, `${name}.log`);
    const child = h.spawnWorker({ REDIS_URL: redis.url, LOG_LEVEL: 'info' }, { stderrFile: file });
    await h.waitFor('worker started', async () => logLines(file).some((l) => l.msg === 'worker started'), 20_000);
    await redis.stop();
    await h.waitFor('worker sees Redis gone', async () => logLines(file).some((l) => /connection error/.test(String(l.msg))), 10_000);
    return { child, file };
  }

  async function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    const bound = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), timeoutMs).unref());
    const result = await Promise.race([exited, bound]);
    assert.notEqual(result, 'still running', `the worker should exit within ${timeoutMs} ms`);
    return (result as [number | null, string | null])[0];
  }

  it('exits 1 after shutdownTimeoutMs with a message, leaving in-flight work to the journal', async () => {
    const { child, file } = await workerWithRedisGone('bounded');
    child.kill('SIGTERM');
    assert.equal(await exitOf(child, shutdownTimeoutMs + 8_000), 1);
    assert.ok(logLines(file).some((l) => String(l.msg).startsWith(`shutdown not finished after shutdownTimeoutMs (${shutdownTimeoutMs})`)));
  });

  it('exits at once (143) on a second SIGTERM', async () => {
    const { child, file } = await workerWithRedisGone('second');
    child.kill('SIGTERM');
    await h.waitFor('stopping', async () => logLines(file).some((l) => l.msg === 'worker stopping: finishing in-flight pairs'));
    child.kill('SIGTERM');
    // Well before shutdownTimeoutMs would have ended it.
    assert.equal(await exitOf(child, shutdownTimeoutMs - 200), 143);
    assert.ok(logLines(file).some((l) => String(l.msg).startsWith('SIGTERM again while stopping')));
  });
});
