// `bet-executor sim`: runs one simulated bookmaker HTTP server until SIGINT or SIGTERM.
import type { SecretRef } from '../config.js';
import { describeRef, readSecret } from '../credentials.js';
import { startSimServer } from './server.js';

export interface RunSimOptions {
  port: number;
  seed: number;
  dedupe: boolean;
  settleAfterMs: number | null;
  latencyMs: number;
  name: string;
  /** Keys the simulator accepts (`--api-key-env`, `--api-key-file`); none: no Authorization checked. */
  apiKeyRefs?: SecretRef[];
  /** Accounts with keys of their own (`--account-key-env ACCOUNT=VAR`). */
  accountKeyRefs?: Record<string, SecretRef>;
}

/** Starts the server, prints `sim <name> listening on <url>`, and resolves once a signal has stopped it. */
export async function runSim(options: RunSimOptions): Promise<void> {
  // Read like the worker reads its keys (errors name the variable or file, never the value; exit 2).
  const apiKeyRefs = options.apiKeyRefs ?? [];
  const apiKeys = apiKeyRefs.map((ref) => readSecret(ref, 'sim api key', process.env).reveal());
  const accountApiKeys = Object.fromEntries(Object.entries(options.accountKeyRefs ?? {})
    .map(([accountId, ref]) => [accountId, readSecret(ref, `sim key of account ${accountId}`, process.env).reveal()]));
  const server = await startSimServer({
    apiKeys,
    accountApiKeys,
    port: options.port,
    seed: options.seed,
    dedupe: options.dedupe,
    settleAfterMs: options.settleAfterMs,
    latencyMs: options.latencyMs,
    name: options.name,
  });
  const auth = apiKeys.length === 0 ? '' : ` (requests need Authorization: Bearer, key from ${apiKeyRefs.map(describeRef).join(' or ')})`;
  process.stdout.write(`sim ${options.name} listening on ${server.url}${auth}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
