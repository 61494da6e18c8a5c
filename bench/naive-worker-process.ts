// Process entry of the deliberately unsafe naive executor (chaos comparison only; see naive-executor.ts):
// `node --import tsx bench/naive-worker-process.ts --config FILE` with REDIS_URL in the environment.
// The config is the real worker's JSON (providers, cooldownMs, concurrency, queueName, job lock timings),
// so the chaos runner can spawn, SIGKILL and restart it exactly like ours.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../src/config.js';
import { closeProviders, providersFromConfig } from '../src/providers/factory.js';
import { startNaiveWorker } from './naive-executor.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  if (values.config === undefined) throw new ConfigError('usage: naive-worker-process.ts --config FILE (REDIS_URL in the environment)');
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new ConfigError('the naive worker needs REDIS_URL (the Redis the chaos run uses)');
  const config = loadConfigFile(values.config);
  const providers = providersFromConfig(config);
  const quiet = (process.env.LOG_LEVEL ?? 'info') !== 'debug';
  const running = await startNaiveWorker({
    redisUrl,
    queueName: config.queueName,
    providers,
    cooldownMs: config.cooldownMs,
    concurrency: config.concurrency,
    jobLockMs: config.jobLockMs,
    stalledCheckMs: config.stalledCheckMs,
    stalledCountMax: config.stalledCountMax,
    // Steps only at LOG_LEVEL=debug; errors always.
    log: (line) => {
      if (!quiet || line.includes('error')) process.stderr.write(`naive[${process.pid}] ${line}\n`);
    },
  });
  process.stderr.write(`naive[${process.pid}] DELIBERATELY UNSAFE naive executor started on ${config.queueName} (chaos comparison only)\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    running.close().then(() => closeProviders(providers)).then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(2);
});
