// Process composition of `bet-executor alerter`: its config, logger and Redis, the alerter, and a bounded shutdown.
import { ConfigError } from '../config.js';
import { startAlerter } from '../alerter/alerter.js';
import { loadAlerterConfigFile } from '../alerter/config.js';
import { createLogger } from '../infra/log.js';
import { redisConnectionFromEnv } from '../store/connection.js';

/** Slack on top of the last in-flight request's deadline before a stopping alerter exits anyway. */
const shutdownSlackMs = 5_000;

export async function runAlerterProcess(configPath: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadAlerterConfigFile(configPath);
  const redisUrl = redisConnectionFromEnv(env);
  // Unlike a worker, an alerter on a private Redis of its own would watch nothing.
  if (!redisUrl) throw new ConfigError('alerter needs REDIS_URL, or REDIS_SENTINELS and REDIS_MASTER_NAME (the Redis the workers write their events to)');
  const log = createLogger('bet-executor-alerter');
  const running = await startAlerter({ config, redisUrl, log, env });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now (unfinished alerts stay pending for another alerter)');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'alerter stopping: unfinished alerts stay pending and are claimed again');
    // Bounded: in-flight requests end by their deadline; a Redis that does not answer cannot hold the exit.
    const limit = setTimeout(() => {
      log.warn('alerter did not stop in time; exiting');
      process.exit(1);
    }, config.delivery.requestTimeoutMs + shutdownSlackMs);
    limit.unref();
    running.close().then(() => process.exit(0), (error: unknown) => {
      log.error({ err: error }, 'alerter stop failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
