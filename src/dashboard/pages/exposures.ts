// Exposures to review: the open list first (reason, money at risk, age, both tickets), the resolved history, and one pair's page.
import type { ReviewEntry, StreamRow } from '../../store/read-model.js';
import { duration, html, money, timeTag, type Html } from '../html.js';
import type { PairView } from './now.js';

export interface OpenExposure {
  entry: ReviewEntry;
  pair: PairView | null;
}

function str(record: Record<string, unknown>, key: string): string | null {
  const v = record[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

export function detectedAtMs(record: Record<string, unknown>): number | null {
  const at = str(record, 'detected_at') ?? str(record, 'at');
  const ms = at === null ? NaN : Date.parse(at);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Money at risk of an exposed pair: the stakes of the accepted legs that are not matched by an accepted
 * other leg (a positive alone is its whole stake); when both are taken, what the settlement says was lost.
 */
export function atRiskMinor(pair: PairView | null): number | null {
  if (!pair) return null;
  const taken = (l: PairView['positive']) => (l.status === 'accepted' ? l.acceptedStakeMinor ?? l.stakeMinor : 0);
  const positive = taken(pair.positive);
  const hedge = taken(pair.hedge);
  if (positive > 0 && hedge === 0) return positive;
  if (hedge > 0 && positive === 0) return hedge;
  if (pair.settlement?.pnlMinor !== null && pair.settlement?.pnlMinor !== undefined) return Math.max(0, -pair.settlement.pnlMinor);
  return positive + hedge;
}

function tickets(pair: PairView | null): Html {
  if (!pair) return html`<span class="muted">no journal</span>`;
  const t = (label: string, l: PairView['positive']) => html`${label} <span class="book">${l.provider}</span> ${l.ticketId ? html`<code>${l.ticketId}</code>` : html`<span class="muted">none</span>`} <span class="leg-status status-${l.status}">${l.status}</span>`;
  return html`${t('positive', pair.positive)}<br>${t('hedge', pair.hedge)}`;
}

export function openList(items: OpenExposure[], total: number, nowMs: number, refreshMs: number): Html {
  return html`<section id="open-exposures" aria-labelledby="open-h" hx-get="/dashboard/exposures/open" hx-trigger="every ${refreshMs}ms" hx-swap="outerHTML">
<h2 id="open-h" class="${total > 0 ? 'alarm' : ''}">Open: ${total === 0 ? 'none' : `${total} to review`}</h2>
${items.length === 0 ? html`<p class="ok">Nothing to review.</p>` : html`<ul class="exposures">
${items.map(({ entry, pair }) => {
  const at = detectedAtMs(entry.record);
  const currency = pair?.currency ?? '';
  return html`<li class="exposure-card" data-exposure-id="${entry.id}">
  <h3><a href="/dashboard/pairs/${encodeURIComponent(entry.id)}">${entry.id}</a></h3>
  <dl>
    <div><dt>Reason</dt><dd class="exposure">${str(entry.record, 'exposure_reason') ?? 'unknown'}</dd></div>
    <div><dt>At risk</dt><dd>${money(atRiskMinor(pair), currency)}</dd></div>
    <div><dt>Age</dt><dd>${at === null ? '—' : duration(nowMs - at)}</dd></div>
    <div><dt>Tickets</dt><dd>${tickets(pair)}</dd></div>
  </dl>
  <a class="button" href="/dashboard/pairs/${encodeURIComponent(entry.id)}#resolve">Review and resolve</a>
</li>`;
})}
</ul>`}
${total > items.length ? html`<p class="muted">${total - items.length} more not shown (exposuresShownMax).</p>` : ''}
</section>`;
}

export function resolvedList(items: ReviewEntry[], total: number): Html {
  return html`<section aria-labelledby="resolved-h">
<h2 id="resolved-h">Resolved <span class="count">(${total})</span></h2>
${items.length === 0 ? html`<p class="muted">None yet.</p>` : html`<div class="scroll"><table id="resolved">
<thead><tr><th scope="col">Exposure</th><th scope="col">Reason</th><th scope="col">Resolved by</th><th scope="col">Note</th><th scope="col">When (UTC)</th></tr></thead>
<tbody>${items.map((e) => {
  const record = (e.record.record ?? {}) as Record<string, unknown>;
  const at = Date.parse(str(e.record, 'resolvedAt') ?? '');
  return html`<tr><th scope="row"><a href="/dashboard/pairs/${encodeURIComponent(e.id)}">${e.id}</a></th>
<td>${str(record, 'exposure_reason') ?? '—'}</td>
<td>${str(e.record, 'resolvedBy') ?? '—'}</td>
<td>${str(e.record, 'note') ?? ''}</td><td>${Number.isFinite(at) ? timeTag(at) : '—'}</td></tr>`;
})}</tbody></table></div>`}
</section>`;
}

export interface PairPageData {
  arbId: string;
  pair: PairView | null;
  journal: unknown;
  review: { status: 'open' | 'resolved'; record: Record<string, unknown> } | null;
  audit: StreamRow[];
  auditMore: boolean;
  canOperate: boolean;
  csrfToken: string;
  error?: string | null;
}

function resolveForm(d: PairPageData): Html {
  if (d.review?.status !== 'open') return html``;
  if (!d.canOperate) return html`<p class="muted" id="resolve">Your token's scope is read: resolving needs an operate token.</p>`;
  return html`<form id="resolve" class="card" method="post" action="/dashboard/exposures/${encodeURIComponent(d.arbId)}/resolve">
  <h2>Resolve this exposure</h2>
  ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : ''}
  <label for="note">Note (what was done, required)</label>
  <textarea id="note" name="note" required maxlength="2000" rows="3"></textarea>
  <input type="hidden" name="_csrf" value="${d.csrfToken}">
  <button type="submit">Resolve</button>
</form>`;
}

export function pairPage(d: PairPageData): Html {
  const reviewBlock = d.review ? html`<section aria-labelledby="review-h" class="card ${d.review.status === 'open' ? 'alarm-card' : ''}">
<h2 id="review-h">Exposure review: ${d.review.status}</h2>
<pre>${JSON.stringify(d.review.record, null, 2)}</pre></section>` : '';
  return html`${reviewBlock}
${resolveForm(d)}
<section aria-labelledby="journal-h"><h2 id="journal-h">Journal</h2>
${d.pair ? html`<p>State <span class="state state-${d.pair.state}">${d.pair.state}</span>, outcome ${d.pair.outcomeReason ?? '—'}, leg window ${duration(d.pair.legWindowMs)}</p>` : html`<p class="muted">No journal for this arbId (expired, or never taken).</p>`}
<details${d.pair ? '' : ' open'}><summary>Journal document</summary><pre>${JSON.stringify(d.journal, null, 2)}</pre></details>
</section>
<section aria-labelledby="audit-h"><h2 id="audit-h">Audit trail</h2>
${d.audit.length === 0 ? html`<p class="muted">No audit entries.</p>` : html`<div class="scroll"><table id="audit">
<thead><tr><th scope="col">Stream id</th><th scope="col">Type</th><th scope="col">Data</th></tr></thead>
<tbody>${d.audit.map((r) => html`<tr><td><code>${r.id}</code></td><td>${r.type}</td><td><code class="data">${JSON.stringify(r.data)}</code></td></tr>`)}</tbody>
</table></div>`}
${d.auditMore ? html`<p class="muted">More entries: see GET /api/v1/pairs/${d.arbId}/audit.</p>` : ''}
</section>`;
}
