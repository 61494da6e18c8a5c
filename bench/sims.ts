// The two simulated bookmakers of the bench (latency 0, no settlement), in a child process or in this one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startBooks } from '../src/rig/books.js';

export type SimMode = 'process' | 'inline';

/** The bench's bookmakers: no latency, no settlement (bookB seeded apart from bookA). */
export const benchBooks = { seed: 1, settleAfterMs: null, bookA: { latencyMs: 0 }, bookB: { seed: 2, latencyMs: 0 } };

export interface BenchSims {
  mode: SimMode;
  bookAUrl: string;
  bookBUrl: string;
  /** CPU time used so far by a sims child process, in ms; null when the sims run in the bench process. */
  cpuMs(): number | null;
  /** Forgets every bet (between rounds, so the simulator's memory does not grow across the run). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const benchDir = dirname(fileURLToPath(import.meta.url));
const startWaitMsMax = 20_000;

let clockTicksPerSecond: number | undefined;

/** utime + stime of a process from /proc (Linux); null where /proc is not there. */
function processCpuMs(pid: number): number | null {
  try {
    clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicksPerSecond : null;
  } catch {
    return null;
  }
}

export async function startSims(mode: SimMode): Promise<BenchSims> {
  return mode === 'inline' ? startInline() : startChild();
}

async function resetOverHttp(url: string): Promise<void> {
  const response = await fetch(`${url}/_sim/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`sim reset at ${url} answered ${response.status}`);
  await response.arrayBuffer();
}

async function startInline(): Promise<BenchSims> {
  const { bookA, bookB, close } = await startBooks(benchBooks);
  return {
    mode: 'inline',
    bookAUrl: bookA.url,
    bookBUrl: bookB.url,
    cpuMs: () => null,
    async reset() {
      bookA.bookmaker.reset();
      bookB.bookmaker.reset();
    },
    close,
  };
}

async function startChild(): Promise<BenchSims> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, 'sim-host.ts')], {
    cwd: join(benchDir, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const urls = await firstLine(child);
  const parsed = JSON.parse(urls) as { bookA?: unknown; bookB?: unknown };
  if (typeof parsed.bookA !== 'string' || typeof parsed.bookB !== 'string') throw new Error(`sim host printed ${urls}`);
  const { bookA, bookB } = parsed;
  return {
    mode: 'process',
    bookAUrl: bookA,
    bookBUrl: bookB,
    cpuMs: () => (child.pid === undefined ? null : processCpuMs(child.pid)),
    async reset() {
      await Promise.all([resetOverHttp(bookA), resetOverHttp(bookB)]);
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (!stdout) {
      reject(new Error('sim host has no stdout'));
      return;
    }
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sim host did not start within ${startWaitMsMax} ms`));
    }, startWaitMsMax);
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      resolve(line);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sim host exited early (code ${code}, signal ${signal})`));
    });
  });
}
