// The Now page: pairs in flight and the last finished ones, both legs each, filtered by state, bookmaker, account, whitelabel.
import { placementDoneStates, pairTransitions } from '../../domain/pair.js';
import { IDENTIFIER_RE } from '../../domain/validation.js';
import type { LegView, pairSummary } from '../../api/views.js';
import { duration, html, money, odds, timeTag, type Html } from '../html.js';

export type PairView = ReturnType<typeof pairSummary>;

export interface NowFilters {
  /** A state, or the groups 'in_flight' / 'finished'; '' for all. */
  state: string;
  provider: string;
  accountId: string;
  whitelabel: string;
}

export const ALL_STATES = Object.keys(pairTransitions);
export const IN_FLIGHT_STATES = ALL_STATES.filter((s) => !(placementDoneStates as readonly string[]).includes(s));
export const FINISHED_STATES = [...placementDoneStates];

/** Filters from a query string: unknown states and malformed identifiers are dropped (an empty filter). */
export function parseNowFilters(query: Record<string, unknown>): NowFilters {
  const text = (name: string) => {
    const v = query[name];
    return typeof v === 'string' && IDENTIFIER_RE.test(v) ? v : '';
  };
  const state = text('state');
  return {
    state: state === 'in_flight' || state === 'finished' || ALL_STATES.includes(state) ? state : '',
    provider: text('provider'),
    accountId: text('accountId'),
    whitelabel: text('whitelabel'),
  };
}

export function filterQuery(f: NowFilters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
  const q = params.toString();
  return q ? `?${q}` : '';
}

function stateBadge(state: string): Html {
  return html`<span class="state state-${state}">${state.replace(/_/g, ' ')}</span>`;
}

function leg(l: LegView, currency: string): Html {
  return html`<div class="leg"><span class="book">${l.provider}</span> <span class="muted">${l.accountId}</span><br>
${money(l.acceptedStakeMinor ?? l.stakeMinor, currency)} @ ${odds(l.acceptedOddsMilli ?? l.oddsMilli)} <span class="leg-status status-${l.status}">${l.status}</span>
${l.ticketId ? html`<br><span class="muted">ticket</span> <code>${l.ticketId}</code>` : ''}</div>`;
}

function outcome(p: PairView): Html {
  const pnl = p.settlement ? html`<br>P&amp;L ${money(p.settlement.pnlMinor, p.currency)}` : '';
  const exposure = p.settlement?.exposureReason ? html`<br><span class="exposure">${p.settlement.exposureReason}</span>` : '';
  return html`${p.outcomeReason ?? '—'}${pnl}${exposure}`;
}

function row(p: PairView): Html {
  return html`<tr data-arb-id="${p.arbId}" data-state="${p.state}">
  <th scope="row"><a href="/dashboard/pairs/${encodeURIComponent(p.arbId)}">${p.arbId}</a><br><span class="muted">${p.whitelabel} · ${p.betPairId}</span></th>
  <td>${stateBadge(p.state)}</td>
  <td>${leg(p.positive, p.currency)}</td>
  <td>${leg(p.hedge, p.currency)}${p.hedgeAttempts > 1 ? html`<br><span class="muted">${p.hedgeAttempts} attempts</span>` : ''}</td>
  <td class="num">${duration(p.legWindowMs)}</td>
  <td>${outcome(p)}</td>
  <td>${timeTag(p.updatedAtMs)}</td>
</tr>`;
}

function table(caption: string, id: string, pairs: PairView[], empty: string): Html {
  return html`<div class="scroll"><table id="${id}">
<caption>${caption} <span class="count">(${pairs.length})</span></caption>
<thead><tr><th scope="col">Pair</th><th scope="col">State</th><th scope="col">Positive leg</th><th scope="col">Hedge leg</th><th scope="col">Leg window</th><th scope="col">Outcome</th><th scope="col">Updated (UTC)</th></tr></thead>
<tbody>${pairs.length === 0 ? html`<tr><td colspan="7" class="muted">${empty}</td></tr>` : pairs.map(row)}</tbody>
</table></div>`;
}

/** The live part: polled every refreshMs with the same filters. */
export function nowTables(f: NowFilters, inFlight: PairView[], finished: PairView[], refreshMs: number, finishedShown: number): Html {
  return html`<section id="now-tables" aria-live="polite" hx-get="/dashboard/now/tables${filterQuery(f)}" hx-trigger="every ${refreshMs}ms" hx-swap="outerHTML">
${f.state === 'finished' || (f.state !== '' && f.state !== 'in_flight' && !IN_FLIGHT_STATES.includes(f.state)) ? '' : table('In flight', 'in-flight', inFlight, 'No pair in flight.')}
${f.state === 'in_flight' || IN_FLIGHT_STATES.includes(f.state) ? '' : table(`Last ${finishedShown} finished`, 'finished', finished, 'No finished pair.')}
</section>`;
}

function option(value: string, label: string, selected: string): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;
}

export function nowPage(f: NowFilters, tables: Html): Html {
  return html`<form class="filters" method="get" action="/dashboard/now" role="search" aria-label="Filter pairs">
  <div><label for="f-state">State</label>
  <select id="f-state" name="state">
    ${option('', 'any', f.state)}${option('in_flight', 'in flight', f.state)}${option('finished', 'finished', f.state)}
    ${ALL_STATES.map((s) => option(s, s.replace(/_/g, ' '), f.state))}
  </select></div>
  <div><label for="f-provider">Bookmaker</label><input id="f-provider" name="provider" value="${f.provider}" maxlength="64" pattern="[A-Za-z0-9_\\-]{1,64}"></div>
  <div><label for="f-account">Account</label><input id="f-account" name="accountId" value="${f.accountId}" maxlength="64" pattern="[A-Za-z0-9_\\-]{1,64}"></div>
  <div><label for="f-whitelabel">Whitelabel</label><input id="f-whitelabel" name="whitelabel" value="${f.whitelabel}" maxlength="64" pattern="[A-Za-z0-9_\\-]{1,64}"></div>
  <div class="actions"><button type="submit">Filter</button> <a href="/dashboard/now">Clear</a></div>
</form>
<p class="muted">Live: refreshed every second without reloading. Leg window: from the positive's acceptance to the hedge's, as journaled.</p>
${tables}`;
}
