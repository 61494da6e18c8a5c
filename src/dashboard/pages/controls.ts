// Controls: kill switches (set and clear with a reason), accounts' cooldowns and rate limits, bookmaker health.
import type { accountView, providersView } from '../../api/routes/ops.js';
import type { KillSwitchView } from '../../store/ops.js';
import { duration, html, timeTag, type Html } from '../html.js';

export type AccountView = Awaited<ReturnType<typeof accountView>>;
export type ProvidersView = Awaited<ReturnType<typeof providersView>>;

/**
 * SLOT(circuits): a circuit breaker's state per provider, shown in the health table once the API serves one
 * (GET /api/v1/circuits, another branch). Until then every provider's circuit is unknown and the column is absent.
 */
export type CircuitStates = Map<string, string> | null;

export interface ControlsData {
  killSwitches: KillSwitchView[];
  providers: ProvidersView;
  circuits: CircuitStates;
  accounts: AccountView[];
  accountsScanned: number;
  canOperate: boolean;
  csrfToken: string;
  error?: string | null;
}

function csrf(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

function switchesTable(d: ControlsData): Html {
  if (d.killSwitches.length === 0) return html`<p class="ok" id="no-kill-switches">No kill switch is engaged.</p>`;
  return html`<div class="scroll"><table id="kill-switches">
<thead><tr><th scope="col">Scope</th><th scope="col">Reason</th><th scope="col">Set by</th><th scope="col">Since (UTC)</th>${d.canOperate ? html`<th scope="col">Clear</th>` : ''}</tr></thead>
<tbody>${d.killSwitches.map((s, i) => html`<tr data-scope="${s.scope}"><th scope="row">${s.scope}</th><td>${s.reason}</td><td>${s.by ?? '—'}${s.via ? html` <span class="muted">via ${s.via}</span>` : ''}</td><td>${timeTag(s.setAtMs)}</td>
${d.canOperate ? html`<td><form method="post" action="/dashboard/kill-switches" class="inline">
  ${csrf(d.csrfToken)}<input type="hidden" name="action" value="clear"><input type="hidden" name="scope" value="${s.scope}">
  <label for="clear-reason-${i}" class="visually-hidden">Reason for clearing ${s.scope}</label>
  <input id="clear-reason-${i}" name="reason" required maxlength="500" placeholder="reason for clearing">
  <button type="submit">Clear ${s.scope}</button></form></td>` : ''}</tr>`)}</tbody></table></div>`;
}

function setForm(d: ControlsData): Html {
  if (!d.canOperate) return html`<p class="muted">Your token's scope is read: setting or clearing a kill switch needs an operate token.</p>`;
  return html`<form method="post" action="/dashboard/kill-switches" class="card" id="set-kill-switch">
  <h3>Engage a kill switch</h3>
  ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : ''}
  ${csrf(d.csrfToken)}<input type="hidden" name="action" value="set">
  <fieldset><legend>Scope</legend>
    <label><input type="radio" name="kind" value="global" checked> global (every pair)</label>
    <label><input type="radio" name="kind" value="provider"> one bookmaker</label>
    <label><input type="radio" name="kind" value="account"> one account</label>
  </fieldset>
  <div class="row">
    <div><label for="ks-provider">Bookmaker (provider or account)</label><input id="ks-provider" name="provider" maxlength="64"></div>
    <div><label for="ks-whitelabel">Whitelabel (account)</label><input id="ks-whitelabel" name="whitelabel" maxlength="64"></div>
    <div><label for="ks-account">Account id (account)</label><input id="ks-account" name="accountId" maxlength="64"></div>
  </div>
  <label for="ks-reason">Reason (required)</label>
  <input id="ks-reason" name="reason" required maxlength="500">
  <button type="submit" class="danger">Engage</button>
</form>`;
}

function ratio(r: number | null): string {
  return r === null ? '—' : `${(r * 100).toFixed(1)} %`;
}

function healthTable(d: ControlsData): Html {
  const circuits = d.circuits;
  return html`<div class="scroll"><table id="bookmaker-health">
<caption>Today (UTC ${d.providers.from}): placement calls by first answer</caption>
<thead><tr><th scope="col">Bookmaker</th><th scope="col">Calls</th><th scope="col">Acceptance</th><th scope="col">Latency p50 / p95 (ms, bucket bound)</th><th scope="col">In doubt</th><th scope="col">Rejected / errors</th>${circuits ? html`<th scope="col">Circuit</th>` : ''}</tr></thead>
<tbody>${d.providers.providers.length === 0 ? html`<tr><td colspan="6" class="muted">No placement call today.</td></tr>` : d.providers.providers.map((p) => html`<tr>
<th scope="row">${p.provider}</th><td class="num">${p.placements.total}</td><td class="num">${ratio(p.acceptanceRatio)}</td>
<td class="num">${p.latencyMs.p50 ?? '—'} / ${p.latencyMs.p95 ?? '—'}</td><td class="num${p.placements.in_doubt > 0 ? ' warn' : ''}">${p.placements.in_doubt}</td>
<td class="num">${p.placements.rejected} / ${p.placements.error}</td>${circuits ? html`<td>${circuits.get(p.provider) ?? 'unknown'}</td>` : ''}</tr>`)}</tbody>
</table></div>`;
}

function accountsTable(d: ControlsData): Html {
  return html`<div class="scroll"><table id="accounts">
<caption>Accounts of the last ${d.accountsScanned} pairs</caption>
<thead><tr><th scope="col">Account</th><th scope="col">Cooldown</th><th scope="col">Placements in window</th><th scope="col">Window free in</th><th scope="col">Kill switches</th></tr></thead>
<tbody>${d.accounts.length === 0 ? html`<tr><td colspan="5" class="muted">No recent account.</td></tr>` : d.accounts.map((a) => {
  const ks = Object.entries(a.killSwitches).filter(([, on]) => on).map(([k]) => k).join(', ');
  return html`<tr><th scope="row">${a.whitelabel} · ${a.provider} · ${a.accountId}</th>
<td>${a.cooldown.active ? html`<span class="warn">${duration(a.cooldown.remainingMs)} left</span>${a.cooldown.heldBy ? html`<br><span class="muted">held by ${a.cooldown.heldBy}</span>` : ''}` : 'free'}</td>
<td class="num">${a.rateLimit.placementsInWindow} / ${a.rateLimit.placementsMax}</td><td>${a.rateLimit.freeInMs > 0 ? duration(a.rateLimit.freeInMs) : 'now'}</td><td>${ks || '—'}</td></tr>`;
})}</tbody></table></div>`;
}

export function controlsPage(d: ControlsData): Html {
  return html`<section aria-labelledby="ks-h"><h2 id="ks-h">Kill switches</h2>
${switchesTable(d)}
${setForm(d)}
</section>
<section aria-labelledby="health-h"><h2 id="health-h">Bookmaker health</h2>
${healthTable(d)}
${d.circuits ? '' : html`<p class="muted">Circuit state: not available in this build (no circuits endpoint).</p>`}
</section>
<section aria-labelledby="acc-h"><h2 id="acc-h">Cooldowns and rate limits</h2>
${accountsTable(d)}
</section>`;
}
