// Controls: kill switches (set and clear with a reason), accounts' cooldowns and rate limits, bookmaker health.
import type { accountView, providersView } from '../../api/routes/ops.js';
import type { CircuitView } from '../../store/circuit.js';
import type { KillSwitchView } from '../../store/ops.js';
import { duration, html, timeTag, type Html } from '../html.js';

export type AccountView = Awaited<ReturnType<typeof accountView>>;
export type ProvidersView = Awaited<ReturnType<typeof providersView>>;

/** Every circuit (GET /api/v1/circuits); null when they could not be read (the column and section say so). */
export type CircuitStates = CircuitView[] | null;

export interface ControlsData {
  killSwitches: KillSwitchView[];
  providers: ProvidersView;
  circuits: CircuitStates;
  accounts: AccountView[];
  accountsScanned: number;
  canOperate: boolean;
  csrfToken: string;
  error?: string | null;
  /** Which form the error is about (the kill-switch form when absent). */
  errorAt?: 'circuits';
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
  ${d.error && d.errorAt === undefined ? html`<p class="error" role="alert">${d.error}</p>` : ''}
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

function circuitState(c: CircuitView): Html {
  const word = c.state === 'half_open' ? 'half-open (probing)' : c.state;
  return html`<span class="${c.state === 'closed' ? 'ok' : 'warn'}">${word}${c.forced ? ' (forced)' : ''}</span>`;
}

function circuitCause(c: CircuitView): string {
  const w = c.lastChange?.window as Record<string, unknown> | undefined;
  if (c.reason === 'failure_ratio' && w) return `${String(w.failures)} of ${String(w.volume)} ${w.class === 'read' ? 'reads' : 'placements'} failed in ${String(w.windowMs)} ms`;
  if (c.reason === 'account_failures' && w) return `${String(w.failures)} account refusals in ${String(w.windowMs)} ms`;
  if (c.reason === 'forced') return `forced by ${c.by ?? '?'}${c.via ? ` via ${c.via}` : ''}: ${c.note ?? ''}`;
  if (c.reason === 'probe_failed' || c.reason === 'probe_succeeded') return `probe: ${String(c.lastChange?.probe ?? '')}`;
  return c.reason ?? '—';
}

function circuitForm(d: ControlsData, scope: string, action: 'open' | 'close', id: string): Html {
  return html`<form method="post" action="/dashboard/circuits" class="inline">
  ${csrf(d.csrfToken)}<input type="hidden" name="action" value="${action}"><input type="hidden" name="scope" value="${scope}">
  <label for="${id}" class="visually-hidden">Reason for forcing ${scope} ${action === 'open' ? 'open' : 'closed'}</label>
  <input id="${id}" name="reason" required maxlength="500" placeholder="reason">
  <button type="submit"${action === 'open' ? ' class="danger"' : ''}>Force ${action === 'open' ? 'open' : 'closed'}</button></form>`;
}

function circuitsTable(d: ControlsData): Html {
  if (d.circuits === null) return html`<p class="muted">Circuit state could not be read.</p>`;
  const shown = d.circuits.filter((c) => c.state !== 'closed' || c.kind === 'provider');
  const table = shown.length === 0 ? html`<p class="ok" id="no-circuits">No circuit has counted an outcome yet: every bookmaker's is closed.</p>` : html`<div class="scroll"><table id="circuits">
<thead><tr><th scope="col">Circuit</th><th scope="col">State</th><th scope="col">Why</th><th scope="col">Since (UTC)</th><th scope="col">Probe from (UTC)</th>${d.canOperate ? html`<th scope="col">Force</th>` : ''}</tr></thead>
<tbody>${shown.map((c, i) => html`<tr data-scope="${c.scope}" data-state="${c.state}"><th scope="row">${c.scope}</th><td>${circuitState(c)}</td><td>${circuitCause(c)}</td><td>${timeTag(c.changedAtMs)}</td>
<td>${c.state === 'open' && !c.forced ? timeTag(c.openUntilMs) : '—'}</td>
${d.canOperate ? html`<td>${c.state === 'closed' ? circuitForm(d, c.scope, 'open', `circuit-open-${i}`) : circuitForm(d, c.scope, 'close', `circuit-close-${i}`)}</td>` : ''}</tr>`)}</tbody></table></div>`;
  const force = d.canOperate ? html`<form method="post" action="/dashboard/circuits" class="card" id="force-circuit">
  <h3>Force a circuit open</h3>
  ${csrf(d.csrfToken)}<input type="hidden" name="action" value="open">
  <label for="circuit-scope">Circuit (provider:PROVIDER or account:PROVIDER:ACCOUNT)</label><input id="circuit-scope" name="scope" required maxlength="200">
  <label for="circuit-reason">Reason (required)</label><input id="circuit-reason" name="reason" required maxlength="500">
  <button type="submit" class="danger">Force open</button>
</form>` : html`<p class="muted">Forcing a circuit open or closed needs an operate token.</p>`;
  return html`${table}${force}`;
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
<td class="num">${p.placements.rejected} / ${p.placements.error}</td>${circuits ? html`<td>${(() => { const c = circuits.find((x) => x.scope === `provider:${p.provider}`); return c ? circuitState(c) : 'closed'; })()}</td>` : ''}</tr>`)}</tbody>
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
</section>
<section aria-labelledby="circuits-h"><h2 id="circuits-h">Circuit breakers</h2>
<p class="muted">An open circuit refuses new pairs needing its bookmaker (or account); hedges already owed are still attempted. A probe that places nothing closes it when the bookmaker answers again.</p>
${d.error && d.errorAt === 'circuits' ? html`<p class="error" role="alert">${d.error}</p>` : ''}
${circuitsTable(d)}
</section>
<section aria-labelledby="acc-h"><h2 id="acc-h">Cooldowns and rate limits</h2>
${accountsTable(d)}
</section>`;
}
