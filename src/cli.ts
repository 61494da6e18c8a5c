// The one entry point: bet-executor worker | sim | enqueue | demo (a thin shell over the modules).
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ConfigError, loadConfigFile } from './config.js';
import { startWorker } from './executor/worker.js';
import { createLogger } from './infra/log.js';
import { startPrivateRedis, type PrivateRedis } from './infra/redis-server.js';
import { closeProviders, providersFromConfig } from './providers/factory.js';
import { runSim } from './sim/cli.js';

function intOption(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min} (got ${value})`);
    return n;
  };
}

/** REDIS_URL, or a private redis-server for this process (stopped on exit). */
async function redisUrlOrPrivate(log: (line: string) => void): Promise<{ url: string; server?: PrivateRedis }> {
  const url = process.env.REDIS_URL;
  if (url) return { url };
  const server = await startPrivateRedis({ hz: 50 });
  log(`REDIS_URL not set: started a private redis-server at ${server.url} (data in ${server.dir}, removed on exit)`);
  return { url: server.url, server };
}

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

const program = new Command()
  .name('bet-executor')
  .description('Executes sports-betting arbitrage bet pairs safely on BullMQ and Redis');

program.command('worker')
  .description('consume the bet-pairs queue and execute bet pairs')
  .requiredOption('--config <file>', 'worker config JSON (see README: Configuration)')
  .action(async (opts: { config: string }) => {
    const config = loadConfigFile(opts.config);
    const log = createLogger('bet-executor');
    const redis = await redisUrlOrPrivate((line) => log.warn(line));
    const providers = providersFromConfig(config);
    const running = await startWorker({ config, redisUrl: redis.url, providers, log });
    log.info({ queue: config.queueName, concurrency: config.concurrency, providers: [...providers.keys()] }, 'worker started');
    onShutdown(async () => {
      log.info('worker stopping: finishing in-flight pairs');
      await running.close();
      await closeProviders(providers);
      await redis.server?.stop();
    });
  });

program.command('sim')
  .description('run one simulated bookmaker (reference protocol, see README)')
  .option('--port <n>', 'port to listen on (0 = any free port)', intOption('--port', 0), 0)
  .option('--seed <s>', 'seed of the settlement distribution', intOption('--seed', 0), 1)
  .option('--name <name>', 'bookmaker name (ticket prefix)', 'sim')
  .option('--no-dedupe', 'behave like a bookmaker that does not deduplicate client references')
  .option('--settle-after-ms <ms>', 'auto-settle accepted bets after this long (0 = never)', intOption('--settle-after-ms', 0), 1000)
  .option('--latency-ms <ms>', 'delay added to every bookmaker answer', intOption('--latency-ms', 0), 0)
  .action(async (opts: { port: number; seed: number; name: string; dedupe: boolean; settleAfterMs: number; latencyMs: number }) => {
    await runSim({
      port: opts.port, seed: opts.seed, name: opts.name, dedupe: opts.dedupe,
      settleAfterMs: opts.settleAfterMs === 0 ? null : opts.settleAfterMs, latencyMs: opts.latencyMs,
    });
  });

program.command('enqueue')
  .description('add the bet pair(s) in a JSON file (one object or an array) to the queue; needs REDIS_URL')
  .argument('<file>', 'JSON file with a bet pair or an array of bet pairs')
  .option('--queue <name>', 'queue name', 'bet-pairs')
  .action(async (file: string, opts: { queue: string }) => {
    const url = process.env.REDIS_URL;
    if (!url) throw new ConfigError('enqueue needs REDIS_URL (the Redis the workers use)');
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const pairs = Array.isArray(parsed) ? parsed : [parsed];
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue(opts.queue, { connection });
    // Validation happens in the worker, which reports bad input as arb_rejected; here we only queue.
    await queue.addBulk(pairs.map((data) => ({ name: 'bet-pair', data })));
    console.log(`enqueued ${pairs.length} bet pair(s) on ${opts.queue}`);
    await queue.close();
    connection.disconnect();
  });

program.command('demo')
  .description('private Redis, two simulated bookmakers, one worker, a few hundred bet pairs, a summary')
  .option('--pairs <n>', 'bet pairs to run', intOption('--pairs', 1), 300)
  .option('--seed <s>', 'seed of the scenario', intOption('--seed', 0), 7)
  .action(async (opts: { pairs: number; seed: number }) => {
    const { runDemo } = await import('./demo.js');
    const code = await runDemo({ pairs: opts.pairs, seed: opts.seed });
    process.exit(code);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`bet-executor: ${error.message}`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
