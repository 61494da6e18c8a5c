// How much Redis one bet pair costs: runs N pairs through the test rig (placed, settled) and reads the deltas.
// Usage: node --import tsx bench/redis-cost.ts [pairs=500]   (starts its own private redis-server)
import { Redis } from 'ioredis';
import { createHarness, makePair } from '../test/support/harness.js';
import { stopOwnServer } from '../test/support/redis.js';

const pairs = Number(process.argv[2] ?? 500);
const batch = 50;

async function usedMemoryBytes(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** MEMORY USAGE of every key, summed by family (the key with its ids cut off). */
async function bytesByFamily(redis: Redis): Promise<Map<string, { keys: number; bytes: number }>> {
  const out = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const family = key.replace(/arb-[^:}]*|bp-[^:}]*|acc[ph]-[^:}]*|\b[0-9]+$|(settle|recheck|resume)-.*$/g, (m, p: string | undefined) => (p ? `${p}-*` : '*'));
      const bytes = Number(await redis.memory('USAGE', key, 'SAMPLES', 0));
      const entry = out.get(family) ?? { keys: 0, bytes: 0 };
      out.set(family, { keys: entry.keys + 1, bytes: entry.bytes + bytes });
    }
  } while (cursor !== '0');
  return out;
}

const h = await createHarness({ settlementPollIntervalMs: 20, concurrency: 16 }, { settleAfterMs: 30 });
await h.startWorker();
async function run(n: number): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const wave = Array.from({ length: Math.min(batch, n - i) }, () => makePair());
    await Promise.all(wave.map((p) => h.enqueue(p)));
    const ids = new Set(wave.map((p) => p.arbId));
    await h.waitFor('wave settled', async () => (await h.events()).filter((e) => e.type === 'arb_settled' && ids.has(String(e.data.arbId))).length === ids.size, 120_000);
  }
}
await run(20); // warm-up: scripts loaded, streams and sets created
const streamLengths = async () => Promise.all(['bet-executor:events', 'bet-executor:audit'].map((k) => h.redis.xlen(k)));
const lengthsBefore = await streamLengths();
const before = await usedMemoryBytes(h.redis);
const familiesBefore = await bytesByFamily(h.redis);
await run(pairs);
const after = await usedMemoryBytes(h.redis);
const families = await bytesByFamily(h.redis);
const lengthsAfter = await streamLengths();
console.log(`stream entries per pair: events ${((lengthsAfter[0]! - lengthsBefore[0]!) / pairs).toFixed(1)}, audit ${((lengthsAfter[1]! - lengthsBefore[1]!) / pairs).toFixed(1)}`);
console.log(`pairs ${pairs}: used_memory ${before} → ${after} bytes, ${Math.round((after - before) / pairs)} bytes per pair`);
const rows = [...families].map(([family, v]) => {
  const was = familiesBefore.get(family) ?? { keys: 0, bytes: 0 };
  return { family, keys: v.keys - was.keys, bytesPerPair: Math.round((v.bytes - was.bytes) / pairs) };
}).filter((r) => r.bytesPerPair !== 0).sort((a, b) => b.bytesPerPair - a.bytesPerPair);
for (const r of rows) console.log(`${r.family.padEnd(60)} ${String(r.keys).padStart(7)} keys  ${String(r.bytesPerPair).padStart(7)} B/pair`);
await h.close();
await stopOwnServer();
process.exit(0);
