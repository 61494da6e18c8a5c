// The one entry point: bet-executor worker | api | alerter | sim | enqueue | exposures | kill | circuit | token | demo | audit (a thin shell over the modules).
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createToken } from './api/auth.js';
import { loadApiConfigFile, SCOPES, type Scope } from './api/config.js';
import { ConfigError, configSchema, envVarNameRe, loadConfigFile, parseConfig, readConfigJson } from './config.js';
import { reviewConfig } from './audit/config-review.js';
import { credentialSources, resolveCredentials } from './credentials.js';
import { circuitScopeFromFlags, formatCircuitScope } from './domain/circuit.js';
import { ACTOR_CHARS_MAX, killScopeFromFlags, NOTE_CHARS_MAX, operatorTextProblem, REASON_CHARS_MAX, type KillScope } from './domain/operator.js';
import { IDENTIFIER_RE } from './domain/validation.js';
import { startWorker } from './app/worker.js';
import { createLogger } from './infra/log.js';
import { startPrivateRedis, type PrivateRedis } from './infra/redis-server.js';
import { closeProviders, providersFromConfig } from './providers/factory.js';
import { runSim } from './sim/cli.js';
import { createRedis, redactedConnection, redisConnectionFromEnv } from './store/connection.js';
import { CircuitStore } from './store/circuit.js';
import { OpsStore, type Actor } from './store/ops.js';
import { Store, storeRedisOptions } from './store/store.js';

function intOption(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min} (got ${value})`);
    return n;
  };
}

/** How a command that needs Redis says where to find it. */
const orSentinels = '(or REDIS_SENTINELS and REDIS_MASTER_NAME: the Redis the workers use)';

/** REDIS_URL (or the Sentinel variables), or a private redis-server for this process (stopped on exit). */
async function redisUrlOrPrivate(log: (line: string) => void): Promise<{ url: string; server?: PrivateRedis }> {
  const url = redisConnectionFromEnv();
  if (url) return { url };
  const server = await startPrivateRedis({ hz: 50 });
  log(`REDIS_URL not set: started a private redis-server at ${server.url} (data in ${server.dir}, removed on exit)`);
  return { url: server.url, server };
}

/** Exit codes of a shutdown: 0 clean, 1 stopped with an error or abandoned at its bound, 128 + signal on a second signal. */
const signalExitCode = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Stops on the first SIGINT/SIGTERM, bounded by `timeoutMs`: when the stop has not finished by then (Redis
 * down, a bookmaker call hanging) the process exits 1 without it — safe, since every pair is journaled before
 * each bet and another worker resumes it once its lease and job lock lapse. A second signal exits at once.
 */
function onShutdown(stop: () => Promise<void>, options: { timeoutMs: number; log: (msg: string) => void }): void {
  let stopping = false;
  const handler = (signal: keyof typeof signalExitCode) => {
    if (stopping) {
      options.log(`${signal} again while stopping: exiting now, in-flight pairs are left to the journal`);
      process.exit(signalExitCode[signal]);
    }
    stopping = true;
    setTimeout(() => {
      options.log(`shutdown not finished after shutdownTimeoutMs (${options.timeoutMs}): exiting, in-flight pairs are left to the journal`);
      process.exit(1);
    }, options.timeoutMs);
    stop().then(() => process.exit(0), (error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

interface SimCommandOptions {
  port: number; seed: number; name: string; dedupe: boolean; settleAfterMs: number; latencyMs: number;
  apiKeyEnv?: string; apiKeyFile?: string; accountKeyEnv: Record<string, { env: string }>;
}

/** `--account-key-env acc-7=BOOKA_ACC7_KEY`, repeatable. */
function collectAccountKey(value: string, previous: Record<string, { env: string }>): Record<string, { env: string }> {
  const accountId = value.slice(0, Math.max(0, value.indexOf('=')));
  const env = value.slice(accountId.length + 1);
  if (!IDENTIFIER_RE.test(accountId) || !envVarNameRe.test(env)) throw new InvalidArgumentError(`--account-key-env must be ACCOUNT=ENV_VAR (got ${value})`);
  return { ...previous, [accountId]: { env } };
}

const program = new Command()
  .name('bet-executor')
  .description('Executes sports-betting arbitrage bet pairs safely on BullMQ and Redis');

program.command('worker')
  .description('consume the bet-pairs queue and execute bet pairs')
  .requiredOption('--config <file>', 'worker config JSON (see README: Configuration)')
  .action(async (opts: { config: string }) => {
    const raw = readConfigJson(opts.config);
    const config = parseConfig(raw);
    // Bookmaker keys are read once, now (rotating one = restarting the worker); a missing one is exit 2.
    const credentials = resolveCredentials(config);
    const log = createLogger('bet-executor');
    // The audit's config review, said at start-up too: a risky setting is in the worker's own log.
    const rawObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    for (const warning of reviewConfig(config, rawObject)) log.warn(warning, `config warning: ${warning.key}`);
    const redis = await redisUrlOrPrivate((line) => log.warn(line));
    const providers = providersFromConfig(config, credentials);
    if (credentials.size > 0) log.info({ keySources: credentialSources(config) }, 'bookmaker credentials read (keys never logged)');
    const running = await startWorker({ config, redisUrl: redis.url, providers, log });
    log.info({ queue: config.queueName, concurrency: config.concurrency, providers: [...providers.keys()] }, 'worker started');
    onShutdown(async () => {
      log.info({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'worker stopping: finishing in-flight pairs');
      await running.close();
      await closeProviders(providers);
      await redis.server?.stop();
      log.info('worker stopped');
    }, { timeoutMs: config.shutdownTimeoutMs, log: (msg) => log.error(msg) });
  });

program.command('alerter')
  .description('deliver alerts from the events stream to webhooks, Slack, Telegram, Alertmanager (see README: Alerts); needs REDIS_URL')
  .requiredOption('--config <file>', 'alerter config JSON (see README: Alerts that reach a person)')
  .action(async (opts: { config: string }) => {
    const { runAlerterProcess } = await import('./app/alerter.js');
    await runAlerterProcess(opts.config);
  });

program.command('sim')
  .description('run one simulated bookmaker (reference protocol, see README)')
  .option('--port <n>', 'port to listen on (0 = any free port)', intOption('--port', 0), 0)
  .option('--seed <s>', 'seed of the settlement distribution', intOption('--seed', 0), 1)
  .option('--name <name>', 'bookmaker name (ticket prefix)', 'sim')
  .option('--no-dedupe', 'behave like a bookmaker that does not deduplicate client references')
  .option('--settle-after-ms <ms>', 'auto-settle accepted bets after this long (0 = never)', intOption('--settle-after-ms', 0), 1000)
  .option('--latency-ms <ms>', 'delay added to every bookmaker answer', intOption('--latency-ms', 0), 0)
  .option('--api-key-env <name>', 'require Authorization: Bearer <key>, the key read from this environment variable')
  .option('--api-key-file <path>', 'require Authorization: Bearer <key>, the key read from this file (both options: either key)')
  .option('--account-key-env <account=NAME>', 'an account with a key of its own, read from env NAME (repeatable)', collectAccountKey, {})
  .action(async (opts: SimCommandOptions) => {
    const apiKeyRefs = [...(opts.apiKeyEnv ? [{ env: opts.apiKeyEnv }] : []), ...(opts.apiKeyFile ? [{ file: opts.apiKeyFile }] : [])];
    if (apiKeyRefs.length === 0 && Object.keys(opts.accountKeyEnv).length > 0) throw new ConfigError('--account-key-env needs --api-key-env or --api-key-file (lookups take the provider\'s key)');
    await runSim({
      port: opts.port, seed: opts.seed, name: opts.name, dedupe: opts.dedupe,
      settleAfterMs: opts.settleAfterMs === 0 ? null : opts.settleAfterMs, latencyMs: opts.latencyMs,
      apiKeyRefs, accountKeyRefs: opts.accountKeyEnv,
    });
  });

/** The contract's input queue (DESIGN.md): `enqueue` puts pairs there, or on the queue a worker config names. */
const contractQueueName = configSchema.shape.queueName.parse(undefined);

/** A command's refusal shown as a message (no stack trace), with its own exit code. */
class CommandError extends Error {
  override name = 'CommandError';
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** Connects to Redis or gives up after connectTimeoutMs (ioredis would otherwise retry for ever). */
async function connectRedis(url: string, connectTimeoutMs: number): Promise<Redis> {
  const redis = createRedis(url, { lazyConnect: true, connectTimeout: connectTimeoutMs, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported below, once
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), bound]);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new CommandError(`cannot reach Redis at ${redactedConnection(url)}: ${(error as Error).message}`, 3);
  } finally {
    clearTimeout(timer);
  }
}

/** The items of an enqueue file: every one a JSON object (the worker validates the rest and reports arb_rejected). */
function enqueueItems(file: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read ${file} as JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const bad = items.findIndex((item) => typeof item !== 'object' || item === null || Array.isArray(item));
  if (bad >= 0) {
    const where = Array.isArray(parsed) ? `item ${bad} of ${file}` : file;
    throw new ConfigError(`${where} is not a JSON object (a bet pair, or an array of bet pairs): ${JSON.stringify(items[bad])?.slice(0, 40) ?? 'undefined'}`);
  }
  return items as Record<string, unknown>[];
}

program.command('enqueue')
  .description('add the bet pair(s) in a JSON file (one object or an array) to the queue; needs REDIS_URL')
  .argument('<file>', 'JSON file with a bet pair or an array of bet pairs')
  .option('--queue <name>', `queue name: ${contractQueueName} (the contract's), or the --config file's queueName`)
  .option('--config <file>', 'a worker config: its queueName is the queue')
  .option('--connect-timeout-ms <ms>', 'give up when Redis does not answer within this (exit 3)', intOption('--connect-timeout-ms', 1), 5_000)
  .action(async (file: string, opts: { queue?: string; config?: string; connectTimeoutMs: number }) => {
    const url = redisConnectionFromEnv();
    if (!url) throw new ConfigError(`enqueue needs REDIS_URL ${orSentinels}`);
    const configured = opts.config ? loadConfigFile(opts.config).queueName : undefined;
    const allowed = [...new Set([contractQueueName, ...(configured ? [configured] : [])])];
    const queueName = opts.queue ?? configured ?? contractQueueName;
    // A mistyped queue would take the pairs where no worker ever looks.
    if (!allowed.includes(queueName)) throw new ConfigError(`--queue (${queueName}) is not a queue workers read: ${allowed.join(' or ')} (another one needs --config with that queueName)`);
    const pairs = enqueueItems(file);
    const connection = await connectRedis(url, opts.connectTimeoutMs);
    const queue = new Queue(queueName, { connection });
    try {
      // Validation happens in the worker, which reports bad input as arb_rejected; here we only queue.
      await queue.addBulk(pairs.map((data) => ({ name: 'bet-pair', data })));
      console.log(`enqueued ${pairs.length} bet pair(s) on ${queueName}`);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

function storeFromEnv(): { store: Store; redis: Redis } {
  const url = redisConnectionFromEnv();
  if (!url) throw new ConfigError(`this command needs REDIS_URL ${orSentinels}`);
  const redis = createRedis(url, storeRedisOptions());
  return { store: new Store(redis, 1_000_000), redis };
}

const exposures = program.command('exposures').description('the review list of exposures (needs REDIS_URL)');

exposures.command('list')
  .description('open exposures awaiting review, oldest first (kept until resolved, whatever the 24 h TTL)')
  .option('--json', 'one JSON object per line')
  .action(async (opts: { json?: boolean }) => {
    const { store, redis } = storeFromEnv();
    const open = (await store.openExposures()).sort((a, b) => String(a.record.detected_at).localeCompare(String(b.record.detected_at)));
    if (opts.json) for (const e of open) console.log(JSON.stringify(e));
    else {
      console.log(`${open.length} open exposure(s)`);
      for (const { id, record } of open) {
        console.log(`${id}  ${String(record.exposure_reason)}  arb ${String(record.arb_id)}  ${String(record.actual_outcome)}  detected ${String(record.detected_at)}  pnl ${String(record.pnl_minor ?? 'unknown')}`);
      }
    }
    redis.disconnect();
  });

exposures.command('resolve')
  .description('close an exposure after review; lifts the block on its betPairId; recorded in the audit stream')
  .argument('<id>', 'the exposure id shown by `exposures list` (its exposure:… key)')
  .requiredOption('--note <text>', 'what was checked and decided')
  .option('--by <name>', 'who resolves it', process.env.USER ?? 'operator')
  .action(async (id: string, opts: { note: string; by: string }) => {
    const problem = operatorTextProblem('--note', opts.note, NOTE_CHARS_MAX) ?? operatorTextProblem('--by', opts.by, ACTOR_CHARS_MAX);
    if (problem) throw new ConfigError(problem);
    const { store, redis } = storeFromEnv();
    const done = await store.resolveExposure(id, opts.by, opts.note, Date.now());
    redis.disconnect();
    if (!done) throw new ConfigError(`no open exposure ${id} (see: bet-executor exposures list)`);
    console.log(`resolved ${id} by ${opts.by}`);
  });

const kill = program.command('kill').description('kill switches: no new pair executes while one applies (needs REDIS_URL)');

interface KillFlags { global?: boolean; provider?: string; account?: string; reason: string; by: string }

function killCommand(name: 'set' | 'clear', description: string) {
  return kill.command(name)
    .description(description)
    .option('--global', 'the global switch (every pair)')
    .option('--provider <name>', 'only this provider')
    .option('--account <wl:provider:account>', 'only this account')
    .requiredOption('--reason <text>', 'why (recorded on the audit stream; the switch\'s value when set)')
    .option('--by <name>', 'who (the actor on the audit stream)', process.env.USER ?? 'operator');
}

/** The scope and the texts of a kill command, checked: an empty or malformed scope is an error, never the global switch. */
function killWrite(opts: KillFlags): { scope: KillScope; actor: Actor } {
  const parsed = killScopeFromFlags(opts);
  if (!parsed.ok) throw new ConfigError(parsed.error);
  const problem = operatorTextProblem('--reason', opts.reason, REASON_CHARS_MAX) ?? operatorTextProblem('--by', opts.by, ACTOR_CHARS_MAX);
  if (problem) throw new ConfigError(problem);
  return { scope: parsed.scope, actor: { by: opts.by, via: 'cli' } };
}

for (const [action, description, done, unchanged] of [
  ['set', 'engage a kill switch', 'engaged', 'was engaged already; reason replaced'],
  ['clear', 'release a kill switch', 'cleared', 'was not set'],
] as const) {
  killCommand(action, `${description}: --global, one --provider, or one --account (exactly one)`)
    .action(async (opts: KillFlags) => {
      const { scope, actor } = killWrite(opts);
      const { ops, redis } = opsFromEnv();
      const change = await ops.changeKillSwitch(action, scope, opts.reason, actor, Date.now());
      redis.disconnect();
      console.log(change.changed ? `${done} ${change.key}` : `${change.key} ${unchanged}`);
    });
}

kill.command('list')
  .description('engaged kill switches with their reason, who set them and when')
  .action(async () => {
    const { ops, redis } = opsFromEnv();
    const switches = await ops.killSwitches();
    redis.disconnect();
    console.log(`${switches.length} kill switch(es) engaged`);
    for (const s of switches) console.log(`${s.scope}  ${JSON.stringify(s.reason)}  by ${s.by ?? 'unknown'}${s.setAtMs ? ` at ${new Date(s.setAtMs).toISOString()}` : ''}`);
  });

const circuit = program.command('circuit').description('circuit breakers per bookmaker and account: an open one refuses new pairs needing it (needs REDIS_URL)');

interface CircuitFlags { provider?: string; account?: string; reason: string; by: string }

for (const [action, description] of [
  ['open', 'force a circuit open: no new pair needing it starts, it is never probed, until forced closed (hedges already owed are still attempted)'],
  ['close', 'force a circuit closed: pairs needing it start again (it can trip again like any closed circuit)'],
] as const) {
  circuit.command(action)
    .description(description)
    .option('--provider <name>', 'the bookmaker (its whole circuit)')
    .option('--account <id>', 'with --provider: only this account\'s circuit at it')
    .requiredOption('--reason <text>', 'why (recorded on the audit and events streams)')
    .option('--by <name>', 'who (the actor on the audit stream)', process.env.USER ?? 'operator')
    .action(async (opts: CircuitFlags) => {
      const parsed = circuitScopeFromFlags(opts);
      if (!parsed.ok) throw new ConfigError(parsed.error);
      const problem = operatorTextProblem('--reason', opts.reason, REASON_CHARS_MAX) ?? operatorTextProblem('--by', opts.by, ACTOR_CHARS_MAX);
      if (problem) throw new ConfigError(problem);
      const { circuits, redis } = circuitsFromEnv();
      const answer = await circuits.force(action, parsed.scope, opts.reason, { by: opts.by, via: 'cli' });
      redis.disconnect();
      const scope = formatCircuitScope(parsed.scope);
      console.log(answer.reply === 'ok' ? `${scope} forced ${action === 'open' ? 'open' : 'closed'} (generation ${answer.generation})` : `${scope} ${action === 'open' ? 'was forced open already; reason replaced' : 'was closed already'}`);
    });
}

circuit.command('list')
  .description('every circuit: state, why, and when a probe may test an open one')
  .option('--json', 'one JSON object per line')
  .action(async (opts: { json?: boolean }) => {
    const { circuits, redis } = circuitsFromEnv();
    const { items, total } = await circuits.list();
    redis.disconnect();
    if (opts.json) for (const c of items) console.log(JSON.stringify(c));
    else {
      console.log(`${total} circuit(s), ${items.filter((c) => c.state !== 'closed').length} not closed`);
      for (const c of items) {
        const due = c.state === 'open' && !c.forced && c.openUntilMs !== null ? `  probe from ${new Date(c.openUntilMs).toISOString()}` : '';
        console.log(`${c.scope}  ${c.state}${c.forced ? ' (forced)' : ''}  ${c.reason ?? ''}${c.by ? ` by ${c.by}` : ''}${c.note ? ` ${JSON.stringify(c.note)}` : ''}${due}`);
      }
    }
  });

function circuitsFromEnv(): { circuits: CircuitStore; redis: Redis } {
  const url = redisConnectionFromEnv();
  if (!url) throw new ConfigError(`this command needs REDIS_URL ${orSentinels}`);
  const redis = createRedis(url, storeRedisOptions());
  return { circuits: new CircuitStore(redis, eventsStreamLenMaxDefault), redis };
}

/** The workers' default cap of the events stream (the CLI has no worker config to read it from). */
const eventsStreamLenMaxDefault = configSchema.shape.eventsStreamLenMax.parse(undefined);

function opsFromEnv(): { ops: OpsStore; redis: Redis } {
  const url = redisConnectionFromEnv();
  if (!url) throw new ConfigError(`this command needs REDIS_URL ${orSentinels}`);
  const redis = createRedis(url, storeRedisOptions());
  return { ops: new OpsStore(redis, eventsStreamLenMaxDefault), redis };
}

program.command('api')
  .description('the operations API: pairs, exposures, kill switches, accounts, statistics, alert deliveries (needs REDIS_URL)')
  .requiredOption('--config <file>', 'API config JSON (see README: The operations API)')
  .action(async (opts: { config: string }) => {
    const config = loadApiConfigFile(opts.config);
    const url = redisConnectionFromEnv();
    if (!url) throw new ConfigError(`api needs REDIS_URL ${orSentinels}`);
    const log = createLogger('bet-executor-api');
    const { startApi } = await import('./app/api.js');
    const running = await startApi({ config, redisUrl: url, log });
    console.log(`API listening on ${running.url ?? ''}`);
    // The API holds no in-flight money work: 10 s to close its connections, then out.
    onShutdown(async () => {
      log.info('API stopping');
      await running.close();
    }, { timeoutMs: 10_000, log: (msg) => log.error(msg) });
  });

const token = program.command('token').description('API bearer tokens');

token.command('create')
  .description('make a new token: prints it once (give it to its holder) and the line to add to the API config\'s tokens')
  .requiredOption('--name <name>', 'who holds it: the actor on the audit stream ([A-Za-z0-9_-]{1,64})')
  .requiredOption('--scope <scope>', `one of ${SCOPES.join(', ')} (admin ⊇ operate ⊇ read)`)
  .action((opts: { name: string; scope: string }) => {
    if (!IDENTIFIER_RE.test(opts.name)) throw new ConfigError(`--name (${JSON.stringify(opts.name)}) must be [A-Za-z0-9_-]{1,64}`);
    if (!(SCOPES as readonly string[]).includes(opts.scope)) throw new ConfigError(`--scope (${JSON.stringify(opts.scope)}) must be one of ${SCOPES.join(', ')}`);
    const { token: secret, entry } = createToken(opts.name, opts.scope as Scope);
    console.log(`token (shown once, store it in a secret manager): ${secret}`);
    console.log(`config entry (add to "tokens" in the API config): ${JSON.stringify(entry)}`);
  });

program.command('demo')
  .description('private Redis, two simulated bookmakers, one worker, a few hundred bet pairs, a summary')
  .option('--pairs <n>', 'bet pairs to run', intOption('--pairs', 1), 300)
  .option('--seed <s>', 'seed of the scenario', intOption('--seed', 0), 7)
  .option('--serve', 'keep the stack up after the summary and print the dashboard\'s URL and a token, until Ctrl-C')
  .action(async (opts: { pairs: number; seed: number; serve?: boolean }) => {
    const { runDemo } = await import('./demo.js');
    const serveUntil = opts.serve ? () => new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }) : undefined;
    const { code } = await runDemo({ pairs: opts.pairs, seed: opts.seed, ...(serveUntil ? { serveUntil } : {}) });
    process.exit(code);
  });

program.command('audit')
  .description('the safety audit, run live against a private world: every item PASS/FAIL/SKIP and SAFE FOR REAL MONEY: YES/NO (exit 0/1)')
  .option('--config <file>', 'audit this worker config (its limits and cooldown; providers are replaced by simulators) and warn on risky settings')
  .option('--json', 'print the report as JSON on stdout (progress stays on stderr)')
  .option('--report <file>', 'also write the report to FILE (.md, or .html)')
  .option('--seed <n>', 'seed of the run (ids, simulators), recorded in the report', intOption('--seed', 0), 1)
  .option('--only <items>', 'comma-separated item ids, group keys or id prefixes (a partial run is never YES)', '')
  .option('--executor <kind>', 'executor under test: ours, or naive (bench/naive-executor.ts, to see the audit fail)', 'ours')
  .action(async (opts: { config?: string; json?: boolean; report?: string; seed: number; only: string; executor: string }) => {
    if (opts.executor !== 'ours' && opts.executor !== 'naive') throw new CommandError(`--executor must be ours or naive (got ${opts.executor})`, 2);
    const { allItems, runAudit, renderText } = await import('./audit/audit.js');
    const only = opts.only.split(',').map((o) => o.trim()).filter(Boolean);
    const unknown = only.filter((o) => !allItems().some((i) => i.id === o || i.group === o || i.id.startsWith(o)));
    if (unknown.length > 0) throw new CommandError(`--only ${unknown.join(',')} names no item; items: ${allItems().map((i) => i.id).join(', ')}`, 2);
    const report = await runAudit({
      ...(opts.config ? { configFile: opts.config } : {}), ...(opts.report ? { reportFile: opts.report } : {}),
      seed: opts.seed, executor: opts.executor, only,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderText(report)}\n`);
    process.exit(report.verdict === 'YES' ? 0 : 1);
  });

// `bet-executor exposures list | head`: the reader went away; stop quietly rather than die on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`bet-executor: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof CommandError) {
    console.error(`bet-executor: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
});
