// Seeded, deterministic settlement of the simulated bookmaker: two simulators with one seed agree on every event.
import type { FinalBetStatus } from '../domain/types.js';

/** Selections that are side 0 of a two-way market; every other selection is side 1. */
const sideZeroSelections: ReadonlySet<string> = new Set(['home', 'over', 'yes', 'back', '1']);

export function selectionSide(selection: string): 0 | 1 {
  return sideZeroSelections.has(selection.toLowerCase()) ? 0 : 1;
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so that every output bit depends on every input bit. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export type EventResult = { kind: 'void' } | { kind: 'half' } | { kind: 'win'; side: 0 | 1 };

/** Per (seed, event, market): 2% void, 2% half (side 0 half_won), else side 0 or 1 wins, 50/50. */
export function eventResult(seed: number, eventId: string, market: string): EventResult {
  const h = hash32(`${seed}\u0000${eventId}\u0000${market}`);
  const bucket = h % 100;
  if (bucket < 2) return { kind: 'void' };
  if (bucket < 4) return { kind: 'half' };
  return { kind: 'win', side: Math.floor(h / 100) % 2 === 0 ? 0 : 1 };
}

export function seededSettlement(seed: number, eventId: string, market: string, selection: string): FinalBetStatus {
  const result = eventResult(seed, eventId, market);
  const side = selectionSide(selection);
  if (result.kind === 'void') return 'void';
  if (result.kind === 'half') return side === 0 ? 'half_won' : 'half_lost';
  return result.side === side ? 'won' : 'lost';
}
