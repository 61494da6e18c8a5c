// `bet-executor sim`: runs one simulated bookmaker HTTP server until SIGINT or SIGTERM.
import { startSimServer } from './server.js';

export interface RunSimOptions {
  port: number;
  seed: number;
  dedupe: boolean;
  settleAfterMs: number | null;
  latencyMs: number;
  name: string;
}

/** Starts the server, prints `sim <name> listening on <url>`, and resolves once a signal has stopped it. */
export async function runSim(options: RunSimOptions): Promise<void> {
  const server = await startSimServer({
    port: options.port,
    seed: options.seed,
    dedupe: options.dedupe,
    settleAfterMs: options.settleAfterMs,
    latencyMs: options.latencyMs,
    name: options.name,
  });
  process.stdout.write(`sim ${options.name} listening on ${server.url}\n`);
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
