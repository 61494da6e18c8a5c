// Results: P&L by day and currency, outcomes by reason, and placements and leg window over time (charted by uPlot).
import type { pnlView, providersView } from '../../api/routes/ops.js';
import { html, jsonScript, money, type Html } from '../html.js';
import type { PairView } from './now.js';

export type PnlView = Awaited<ReturnType<typeof pnlView>>;

export interface Series {
  /** Bucket starts, unix seconds (uPlot's x axis). */
  t: number[];
  taken: number[];
  executed: number[];
  notExecuted: number[];
  legWindowP50Ms: Array<number | null>;
  legWindowMaxMs: Array<number | null>;
}

/** The nearest-rank median of a non-empty sorted list. */
function median(sorted: number[]): number | null {
  return sorted.length === 0 ? null : sorted[Math.ceil(sorted.length / 2) - 1] ?? null;
}

/**
 * Pairs per time bucket (by when a worker took them) over the last `buckets` buckets ending now: taken,
 * executed (hedged or settled without exposure), not executed; and the leg window's median and maximum.
 */
export function pairSeries(pairs: readonly PairView[], nowMs: number, bucketMs: number, buckets: number): Series {
  const firstMs = (Math.floor(nowMs / bucketMs) - buckets + 1) * bucketMs;
  const s: Series = { t: [], taken: [], executed: [], notExecuted: [], legWindowP50Ms: [], legWindowMaxMs: [] };
  const windows: number[][] = [];
  for (let i = 0; i < buckets; i++) {
    s.t.push((firstMs + i * bucketMs) / 1000);
    s.taken.push(0);
    s.executed.push(0);
    s.notExecuted.push(0);
    windows.push([]);
  }
  for (const p of pairs) {
    const i = Math.floor((p.journaledAtMs - firstMs) / bucketMs);
    if (i < 0 || i >= buckets) continue;
    s.taken[i] = (s.taken[i] ?? 0) + 1;
    if (p.outcomeReason === 'executed') s.executed[i] = (s.executed[i] ?? 0) + 1;
    else if (p.outcomeReason !== null) s.notExecuted[i] = (s.notExecuted[i] ?? 0) + 1;
    if (p.legWindowMs !== null) windows[i]?.push(p.legWindowMs);
  }
  for (const w of windows) {
    w.sort((a, b) => a - b);
    s.legWindowP50Ms.push(median(w));
    s.legWindowMaxMs.push(w.length === 0 ? null : w[w.length - 1] ?? null);
  }
  return s;
}

/** Pairs counted by their outcome reason (the state while they have none), most frequent first. */
export function outcomesByReason(pairs: readonly PairView[]): Array<{ reason: string; pairs: number }> {
  const counts = new Map<string, number>();
  for (const p of pairs) {
    const reason = p.outcomeReason ?? `(${p.state})`;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(([reason, n]) => ({ reason, pairs: n })).sort((a, b) => b.pairs - a.pairs || a.reason.localeCompare(b.reason));
}

export interface ResultsData {
  pnl: PnlView;
  providers: Awaited<ReturnType<typeof providersView>>;
  outcomes: Array<{ reason: string; pairs: number }>;
  series: Series;
  pairsScanned: number;
  bucketMs: number;
}

export function resultsPage(d: ResultsData): Html {
  return html`<section aria-labelledby="pnl-h"><h2 id="pnl-h">P&amp;L by day and currency</h2>
<div class="scroll"><table id="pnl">
<caption>Settled pairs, UTC day of settlement, ${d.pnl.from} to ${d.pnl.to}</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Currency</th><th scope="col">P&amp;L</th><th scope="col">Pairs</th><th scope="col">P&amp;L unknown</th><th scope="col">Exposures</th></tr></thead>
<tbody>${d.pnl.days.length === 0 ? html`<tr><td colspan="6" class="muted">No settled pair in these days.</td></tr>` : d.pnl.days.map((r) => html`<tr><th scope="row">${r.day}</th><td>${r.currency}</td>
<td class="num ${r.pnlMinor < 0 ? 'neg' : ''}">${money(r.pnlMinor)}</td><td class="num">${r.pairs}</td><td class="num">${r.pnlUnknown}</td><td class="num">${r.exposures}</td></tr>`)}</tbody>
</table></div></section>
<section aria-labelledby="outcomes-h"><h2 id="outcomes-h">Outcomes by reason</h2>
<div class="scroll"><table id="outcomes"><caption>The last ${d.pairsScanned} pairs</caption>
<thead><tr><th scope="col">Outcome</th><th scope="col">Pairs</th></tr></thead>
<tbody>${d.outcomes.map((o) => html`<tr><th scope="row">${o.reason}</th><td class="num">${o.pairs}</td></tr>`)}</tbody></table></div>
</section>
<section aria-labelledby="chart-h"><h2 id="chart-h">Placements and leg window over time</h2>
<p class="muted">Pairs taken per ${d.bucketMs / 1000} s of the last ${d.pairsScanned} pairs; the leg window's median and maximum (ms).</p>
<div id="chart-placements" class="chart" role="img" aria-label="Pairs taken, executed and not executed per time bucket"></div>
<div id="chart-latency" class="chart" role="img" aria-label="Leg window median and maximum per time bucket, milliseconds"></div>
${jsonScript('series', d.series)}
<details><summary>Bookmaker call latency today</summary>
<ul>${d.providers.providers.map((p) => html`<li>${p.provider}: p50 ${p.latencyMs.p50 ?? '—'} ms, p95 ${p.latencyMs.p95 ?? '—'} ms, p99 ${p.latencyMs.p99 ?? '—'} ms over ${p.placements.total} calls</li>`)}</ul>
</details>
</section>`;
}
