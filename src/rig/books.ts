// The rig's two simulated bookmakers (bookA takes positives, bookB hedges), over real HTTP on free ports.
import { startSimServer, type SimServer, type SimServerOptions } from '../sim/server.js';

export interface Books {
  bookA: SimServer;
  bookB: SimServer;
  /** Both, bookA first. */
  all: SimServer[];
  close(): Promise<void>;
}

export interface BooksOptions {
  seed: number;
  /** Accepted bets settle this long after acceptance; null: never by themselves. */
  settleAfterMs: number | null;
  /** false: the simulators do not deduplicate client references (a resend is a second bet). */
  dedupe?: boolean;
  bookA?: Partial<SimServerOptions>;
  bookB?: Partial<SimServerOptions>;
}

export async function startBooks(o: BooksOptions): Promise<Books> {
  const common = { seed: o.seed, settleAfterMs: o.settleAfterMs, ...(o.dedupe === false ? { dedupe: false } : {}) };
  const bookA = await startSimServer({ ...common, name: 'bookA', ...o.bookA });
  const bookB = await startSimServer({ ...common, name: 'bookB', ...o.bookB }).catch(async (error: unknown) => {
    await bookA.close();
    throw error;
  });
  return { bookA, bookB, all: [bookA, bookB], close: async () => void (await Promise.all([bookA.close(), bookB.close()])) };
}
