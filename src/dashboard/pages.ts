// The dashboard's pages and live fragments: each reads through the JSON API's own functions and stores, each
// action calls the same function as its JSON route (so it is checked and audited one way, with the actor).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.js';
import { resolveExposure } from '../api/routes/exposures.js';
import { forceCircuit } from '../api/routes/circuits.js';
import { changeKillSwitch } from '../api/routes/kill-switches.js';
import { accountView, pnlView, providersView } from '../api/routes/ops.js';
import { auditPage } from '../api/routes/pairs.js';
import { scopeAllows } from '../api/auth.js';
import type { ApiDeps } from '../api/types.js';
import { pairSummary } from '../api/views.js';
import type { PairQuery } from '../store/read-model.js';
import { html, type Html } from './html.js';
import { killBanner, page, type Frame, type PageName } from './layout.js';
import { controlsPage, type CircuitStates, type ControlsData } from './pages/controls.js';
import { openList, pairPage, resolvedList, type OpenExposure } from './pages/exposures.js';
import { FINISHED_STATES, IN_FLIGHT_STATES, nowPage, nowTables, parseNowFilters, type NowFilters, type PairView } from './pages/now.js';
import { outcomesByReason, pairSeries, resultsPage } from './pages/results.js';
import { dashboardRoute, sendHtml } from './routes.js';

/** The live views look at this many of the newest pairs at most (a pair in flight longer than that is stuck, and alerted on). */
const liveScanMax = 1_000;
/** Accounts on the Controls page: those of the newest pairs, at most this many. */
const accountsShownMax = 50;
const accountsPairsScanned = 200;
const auditEntriesShown = 200;
/** Chart buckets: the smallest of these that fits the pairs' span in chartBucketsMax. */
const chartBucketsMs = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];
const chartBucketsMax = 60;

export function registerPageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { refreshMs } = deps.config.dashboard;
  const frame = async (request: FastifyRequest, title: string, name: PageName, extra: Partial<Frame> = {}): Promise<Frame> => {
    const session = request.dashboardSession;
    if (!session) throw new Error('invariant violated: a session page without a session');
    return { title, page: name, session, killSwitches: await deps.ops.killSwitches(), refreshMs, ...extra };
  };
  const show = async (request: FastifyRequest, reply: FastifyReply, title: string, name: PageName, content: Html, status = 200, extra: Partial<Frame> = {}) =>
    sendHtml(reply, page(await frame(request, title, name, extra), content), status);

  app.get('/dashboard/fragments/kill-banner', dashboardRoute('read'), async (_request, reply) => sendHtml(reply, killBanner(await deps.ops.killSwitches(), refreshMs)));

  app.get<{ Querystring: Record<string, unknown> }>('/dashboard/now', dashboardRoute('read'), async (request, reply) => {
    const filters = parseNowFilters(request.query);
    return show(request, reply, 'Now', 'now', nowPage(filters, await tables(deps, filters)));
  });
  app.get<{ Querystring: Record<string, unknown> }>('/dashboard/now/tables', dashboardRoute('read'), async (request, reply) =>
    sendHtml(reply, await tables(deps, parseNowFilters(request.query))));

  app.get('/dashboard/exposures', dashboardRoute('read'), async (request, reply) => {
    const [open, resolved] = await Promise.all([openExposures(deps), resolvedExposures(deps)]);
    return show(request, reply, 'Exposures to review', 'exposures', html`${open}${resolved}`);
  });
  app.get('/dashboard/exposures/open', dashboardRoute('read'), async (_request, reply) => sendHtml(reply, await openExposures(deps)));

  app.get<{ Params: { arbId: string } }>('/dashboard/pairs/:arbId', dashboardRoute('read'), async (request, reply) =>
    show(request, reply, `Pair ${request.params.arbId}`, 'pair', await pairContent(deps, request, request.params.arbId, null)));

  app.post<{ Params: { id: string }; Body: Record<string, string> }>('/dashboard/exposures/:id/resolve', dashboardRoute('operate'), async (request, reply) => {
    const { id } = request.params;
    try {
      await resolveExposure(deps, request, id, String(request.body?.note ?? ''));
      return reply.redirect('/dashboard/exposures', 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.statusCode >= 500) throw error;
      return show(request, reply, `Pair ${id}`, 'pair', await pairContent(deps, request, id, error.message), error.statusCode);
    }
  });

  app.get('/dashboard/controls', dashboardRoute('read'), async (request, reply) => show(request, reply, 'Controls', 'controls', controlsPage(await controlsData(deps, request, null))));

  app.post<{ Body: Record<string, string> }>('/dashboard/kill-switches', dashboardRoute('operate'), async (request, reply) => {
    const body = request.body ?? {};
    const action = body.action === 'clear' ? 'clear' : body.action === 'set' ? 'set' : null;
    try {
      if (action === null) throw new ApiError('invalid_request', 'action must be set or clear');
      await changeKillSwitch(deps, request, action, action === 'clear' ? String(body.scope ?? '') : scopeText(body), String(body.reason ?? ''), 'dashboard');
      return reply.redirect('/dashboard/controls', 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.statusCode >= 500) throw error;
      return show(request, reply, 'Controls', 'controls', controlsPage(await controlsData(deps, request, error.message)), error.statusCode);
    }
  });

  app.post<{ Body: Record<string, string> }>('/dashboard/circuits', dashboardRoute('operate'), async (request, reply) => {
    const body = request.body ?? {};
    const action = body.action === 'open' ? 'open' : body.action === 'close' ? 'close' : null;
    try {
      if (action === null) throw new ApiError('invalid_request', 'action must be open or close');
      await forceCircuit(deps, request, action, String(body.scope ?? '').trim(), String(body.reason ?? ''), 'dashboard');
      return reply.redirect('/dashboard/controls', 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.statusCode >= 500) throw error;
      return show(request, reply, 'Controls', 'controls', controlsPage(await controlsData(deps, request, error.message, 'circuits')), error.statusCode);
    }
  });

  app.get('/dashboard/results', dashboardRoute('read'), async (request, reply) =>
    show(request, reply, 'Results', 'results', await resultsContent(deps), 200, { scripts: ['/dashboard/assets/uPlot.iife.min.js', '/dashboard/assets/results.js'], styles: ['/dashboard/assets/uPlot.min.css'] }));
}

/** The kill-switch scope a set form names (the JSON route parses and checks it, as for a PUT). */
function scopeText(body: Record<string, string>): string {
  const part = (name: string) => String(body[name] ?? '').trim();
  switch (body.kind) {
    case 'global': return 'global';
    case 'provider': return `provider:${part('provider')}`;
    case 'account': return `account:${part('whitelabel')}:${part('provider')}:${part('accountId')}`;
    default: return '';
  }
}

async function pairViews(deps: ApiDeps, query: Omit<PairQuery, 'after'>): Promise<PairView[]> {
  const page = await deps.reads.listPairs({ ...query, after: null });
  return page.rows.map((row) => pairSummary(row.doc, row.state, row.rev));
}

function statesOf(group: readonly string[], f: NowFilters): Set<string> {
  if (f.state === '' || f.state === 'in_flight' || f.state === 'finished') return new Set(group);
  return new Set(group.includes(f.state) ? [f.state] : []);
}

async function tables(deps: ApiDeps, f: NowFilters): Promise<Html> {
  const { finishedPairsShown, refreshMs } = deps.config.dashboard;
  const common = {
    ...(f.provider ? { provider: f.provider } : {}),
    ...(f.accountId ? { accountId: f.accountId } : {}),
    ...(f.whitelabel ? { whitelabel: f.whitelabel } : {}),
    scanMax: Math.min(liveScanMax, deps.config.pairScanMax),
  };
  const inFlightStates = statesOf(IN_FLIGHT_STATES, f);
  const finishedStates = statesOf(FINISHED_STATES, f);
  const [inFlight, finished] = await Promise.all([
    inFlightStates.size === 0 ? [] : pairViews(deps, { ...common, states: inFlightStates, limit: deps.config.pageItemsMax }),
    finishedStates.size === 0 ? [] : pairViews(deps, { ...common, states: finishedStates, limit: finishedPairsShown }),
  ]);
  return nowTables(f, inFlight, finished, refreshMs, finishedPairsShown);
}

async function openExposures(deps: ApiDeps): Promise<Html> {
  const { exposuresShownMax, refreshMs } = deps.config.dashboard;
  const open = await deps.reads.openExposures(Math.min(exposuresShownMax, deps.config.openExposuresMax));
  const items: OpenExposure[] = await Promise.all(open.items.map(async (entry) => {
    const row = await deps.reads.pair(entry.id);
    return { entry, pair: row ? pairSummary(row.doc, row.state, row.rev) : null };
  }));
  return openList(items, open.total, deps.nowMs(), refreshMs);
}

async function resolvedExposures(deps: ApiDeps): Promise<Html> {
  const page = await deps.reads.resolvedExposures('0', deps.config.dashboard.exposuresShownMax);
  const at = (e: { record: Record<string, unknown> }) => String(e.record.resolvedAt ?? '');
  return resolvedList([...page.items].sort((a, b) => at(b).localeCompare(at(a))), page.total);
}

async function pairContent(deps: ApiDeps, request: FastifyRequest, arbId: string, error: string | null): Promise<Html> {
  const [row, review] = await Promise.all([deps.reads.pair(arbId), deps.reads.exposure(arbId)]);
  if (!row && !review) throw new ApiError('pair_not_found', `no journal and no exposure for ${arbId}`);
  const audit = row ? await auditPage(deps, arbId, row.doc, row.state, null, auditEntriesShown) : { entries: [], nextCursor: null };
  const session = request.dashboardSession;
  return pairPage({
    arbId,
    pair: row ? pairSummary(row.doc, row.state, row.rev) : null,
    journal: row ? { rev: row.rev, state: row.state, jobId: row.jobId, doc: row.doc } : null,
    review,
    audit: audit.entries,
    auditMore: audit.nextCursor !== null,
    canOperate: session !== undefined && scopeAllows(session.scope, 'operate'),
    csrfToken: session?.csrfToken ?? '',
    error,
  });
}

/** Every circuit, as GET /api/v1/circuits lists them; null (shown as such) when Redis could not say. */
async function circuitStates(deps: ApiDeps): Promise<CircuitStates> {
  try {
    return (await deps.circuits.list()).items;
  } catch {
    return null;
  }
}

async function controlsData(deps: ApiDeps, request: FastifyRequest, error: string | null, errorAt?: 'circuits'): Promise<ControlsData> {
  const [killSwitches, providers, circuits, recent] = await Promise.all([
    deps.ops.killSwitches(),
    providersView(deps, {}),
    circuitStates(deps),
    pairViews(deps, { limit: accountsPairsScanned, scanMax: accountsPairsScanned }),
  ]);
  const seen = new Map<string, [string, string, string]>();
  for (const p of recent) {
    for (const leg of [p.positive, p.hedge]) {
      if (seen.size < accountsShownMax) seen.set(`${p.whitelabel}:${leg.provider}:${leg.accountId}`, [p.whitelabel, leg.provider, leg.accountId]);
    }
  }
  const accounts = await Promise.all([...seen.values()].map(([wl, provider, account]) => accountView(deps, wl, provider, account)));
  const session = request.dashboardSession;
  return {
    killSwitches, providers, circuits, accounts, accountsScanned: recent.length,
    canOperate: session !== undefined && scopeAllows(session.scope, 'operate'),
    csrfToken: session?.csrfToken ?? '',
    error,
    ...(errorAt ? { errorAt } : {}),
  };
}

async function resultsContent(deps: ApiDeps): Promise<Html> {
  const [pnl, providers, pairs] = await Promise.all([
    pnlView(deps, {}),
    providersView(deps, {}),
    pairViews(deps, { limit: liveScanMax, scanMax: liveScanMax }),
  ]);
  const nowMs = deps.nowMs();
  const oldestMs = pairs.reduce((min, p) => Math.min(min, p.journaledAtMs), nowMs);
  const bucketMs = chartBucketsMs.find((ms) => (nowMs - oldestMs) / ms < chartBucketsMax) ?? chartBucketsMs[chartBucketsMs.length - 1] ?? 3_600_000;
  const buckets = Math.max(2, Math.min(chartBucketsMax, Math.ceil((nowMs - oldestMs) / bucketMs) + 1));
  return resultsPage({ pnl, providers, outcomes: outcomesByReason(pairs), series: pairSeries(pairs, nowMs, bucketMs, buckets), pairsScanned: pairs.length, bucketMs });
}
