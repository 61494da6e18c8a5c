// Starts and stops a private redis-server (temp dir, free port, AOF on, noeviction) for demo, tests and CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Restarts the server on the same port and dir (AOF makes the data survive); `extraArgs` replace the start's (e.g. `--replicaof` the new primary). */
  restart(o?: { extraArgs?: string[] }): Promise<void>;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Server `hz`: how often Redis expires keys and runs timers (BullMQ delayed jobs rely on it). */
  hz?: number;
  databases?: number;
  log?: (line: string) => void;
  /** Users from a Redis ACL file (`--aclfile`); `auth` is then the user the readiness ping logs in as. */
  aclFile?: string;
  auth?: { username: string; password: string };
  /** More server arguments (e.g. `--replicaof host port`). */
  extraArgs?: string[];
  /** Start as a Sentinel (`redis-server FILE --sentinel`) with this config text (`port` is added); not a data server. */
  sentinelConfig?: string;
}

const startAttemptsMax = 5;
const readyWaitMsMax = 10_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read a free port'));
        return;
      }
      const port = address.port;
      server.close(() => resolve(port));
    });
  });
}

function spawnServer(port: number, dir: string, options: PrivateRedisOptions): ChildProcess {
  if (options.sentinelConfig !== undefined) {
    // Sentinel rewrites its config file (what it learns of replicas and failovers): one writable file per server.
    const file = join(dir, 'sentinel.conf');
    if (!existsSync(file)) writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndaemonize no\nloglevel warning\ndir ${dir}\n${options.sentinelConfig}`);
    const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => options.log?.(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => options.log?.(chunk.toString()));
    return child;
  }
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--hz', String(options.hz ?? 50),
    '--databases', String(options.databases ?? 16),
    '--daemonize', 'no',
    '--loglevel', 'warning',
    ...(options.aclFile ? ['--aclfile', options.aclFile] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => options.log?.(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => options.log?.(chunk.toString()));
  return child;
}

async function waitReady(port: number, child: ChildProcess, auth: PrivateRedisOptions['auth']): Promise<boolean> {
  const deadline = Date.now() + readyWaitMsMax;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...auth });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const pong = await client.ping();
      client.disconnect();
      if (pong === 'PONG') return true;
    } catch {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-redis-'));
  for (let attempt = 1; attempt <= startAttemptsMax; attempt++) {
    const port = await freePort();
    let child = spawnServer(port, dir, options);
    if (!(await waitReady(port, child, options.auth))) {
      await stopChild(child);
      rmSync(join(dir, 'sentinel.conf'), { force: true });
      continue;
    }
    const handle: PrivateRedis = {
      url: `redis://127.0.0.1:${port}`,
      port,
      dir,
      process: child,
      async restart(o) {
        await stopChild(child);
        if (o?.extraArgs) options = { ...options, extraArgs: o.extraArgs };
        child = spawnServer(port, dir, options);
        handle.process = child;
        if (!(await waitReady(port, child, options.auth))) throw new Error(`redis-server did not restart on port ${port}`);
      },
      async stop() {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return handle;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start after ${startAttemptsMax} attempts (is it installed? run scripts/ensure-deps.sh)`);
}
