// recommendation.dashboard, live: the API process of this build (`bet-executor api`) serves the dashboard on the
// run's Redis, and plain HTTP (no browser) checks who sees what and who may act: logged out only the login page, a
// read token's session sees the pages and the run's pairs and exposures, a form without the session's CSRF token
// or from another site is refused, a read session cannot act (nor can a read token on the JSON API), and an
// operate session with its token can (a kill switch on an account no pair uses, engaged then cleared).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '../api/auth.js';
import { freePort } from '../infra/redis-server.js';
import { keys } from '../store/keys.js';
import { Checks, type ItemOutcome } from './types.js';
import { exitOf, packageRoot, type World, type WorkerGroup } from './world.js';

const requestTimeoutMs = 5_000;
/** An account no pair of the run uses: the operate session's kill switch lands here and is cleared at once. */
const probeScope = { whitelabel: 'wl-audit', provider: 'bookA', accountId: 'audit-dashboard-probe' } as const;
/** Pages a logged-out visitor must not see (each redirects to the login page). */
const pagePaths = ['/dashboard/now', '/dashboard/exposures', '/dashboard/controls', '/dashboard/results', '/dashboard/queues', '/dashboard/now/tables', '/dashboard/exposures/open'];

interface Answer {
  status: number;
  location: string;
  body: string;
  cookies: Map<string, string>;
}

/** One request, redirects not followed (where they lead is what is checked). */
async function call(baseUrl: string, path: string, init: { method?: string; cookie?: string; headers?: Record<string, string>; form?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(`${baseUrl}${path}`, { method: init.method ?? 'GET', headers, body, redirect: 'manual', signal: AbortSignal.timeout(requestTimeoutMs) });
  const cookies = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair?.indexOf('=') ?? -1;
    if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return { status: res.status, location: res.headers.get('location') ?? '', body: await res.text(), cookies };
}

const sameSite = { 'sec-fetch-site': 'same-origin' };

/** Logs in through the form as a browser does (its double-submitted token); the session cookie, or null. */
async function login(baseUrl: string, token: string): Promise<{ cookie: string | null; answer: Answer }> {
  const form = await call(baseUrl, '/dashboard/login');
  const loginCsrf = form.cookies.get('be_login_csrf') ?? '';
  const answer = await call(baseUrl, '/dashboard/login', { method: 'POST', cookie: `be_login_csrf=${loginCsrf}`, headers: sameSite, form: { token, _csrf: loginCsrf } });
  const session = answer.cookies.get('be_session');
  return { cookie: session ? `be_session=${session}` : null, answer };
}

function csrfOf(page: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
}

function killForm(csrf: string | null, action: 'set' | 'clear'): Record<string, string> {
  const scope = `account:${probeScope.whitelabel}:${probeScope.provider}:${probeScope.accountId}`;
  const fields: Record<string, string> = action === 'set'
    ? { action, kind: 'account', ...probeScope, reason: 'audit: dashboard check' }
    : { action, scope, reason: 'audit: dashboard check done' };
  return csrf === null ? fields : { ...fields, _csrf: csrf };
}

/** `bet-executor api` on the run's Redis, with a read and an operate token made for this run; its URL once /health answers. */
async function startApiProcess(world: World, main: WorkerGroup, tokens: Array<ReturnType<typeof createToken>>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const configFile = join(world.dir, 'api.json');
  writeFileSync(configFile, JSON.stringify({
    host: '127.0.0.1', port, tokens: tokens.map((t) => t.entry),
    queueName: main.config.queueName, settlementQueueName: main.config.settlementQueueName, eventsStreamLenMax: main.config.eventsStreamLenMax,
  }));
  const logFd = openSync(join(world.dir, 'api.log'), 'a');
  const child = spawn(process.execPath, [join(packageRoot, 'bin/bet-executor.mjs'), 'api', '--config', configFile], {
    cwd: packageRoot, env: { ...process.env, REDIS_URL: world.redis.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await world.waitFor('the API process to answer /health', async () => {
      if (child.exitCode !== null) throw new Error(`bet-executor api exited (code ${child.exitCode}); see its log`);
      return fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status === 200, () => false);
    }, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { url, child };
}

export async function dashboardOutcome(world: World, main: WorkerGroup): Promise<ItemOutcome> {
  const did = 'started `bet-executor api` on the run\'s Redis and used its /dashboard over plain HTTP: logged out, a read token\'s session, forms without their CSRF token or from another site, a read session and a read bearer token trying to act, an operate session acting';
  const reader = createToken('audit-reader', 'read');
  const operator = createToken('audit-operator', 'operate');
  const checks = new Checks();
  let api: { url: string; child: ChildProcess };
  try {
    api = await startApiProcess(world, main, [reader, operator]);
  } catch (error) {
    return { status: 'FAIL', did, evidence: `no dashboard: ${(error as Error).message}` };
  }
  const base = api.url;
  const probeKey = keys.killAccount(probeScope.whitelabel, probeScope.provider, probeScope.accountId);
  const runArbs = [...main.arbIds];
  const leaksRunData = (body: string) => runArbs.some((arbId) => body.includes(arbId));
  try {
    // Logged out: every page leads to the login page, which shows nothing of the run; a bearer token opens no page.
    const root = await call(base, '/dashboard');
    checks.expect(root.status === 303 && root.location === '/dashboard/now', `/dashboard answered ${root.status} → ${root.location || 'nowhere'}`);
    const outside: string[] = [];
    for (const path of [...pagePaths, `/dashboard/pairs/${runArbs[0] ?? 'none'}`]) {
      for (const headers of [{}, { authorization: `Bearer ${reader.token}` }] as Array<Record<string, string>>) {
        const r = await call(base, path, { headers });
        if (!(r.status === 303 && r.location === '/dashboard/login') || leaksRunData(r.body)) outside.push(`${path} ${r.status}${r.location ? ` → ${r.location}` : ''}`);
      }
    }
    checks.expect(outside.length === 0, `logged out, not sent to the login page: ${outside.join(', ')}`);
    const loginPage = await call(base, '/dashboard/login');
    checks.expect(loginPage.status === 200 && /<form[^>]*action="\/dashboard\/login"/.test(loginPage.body) && !leaksRunData(loginPage.body), `the login page answered ${loginPage.status} (${loginPage.body.length} bytes)`);
    const anonymousPost = await call(base, '/dashboard/kill-switches', { method: 'POST', headers: sameSite, form: killForm('forged', 'set') });
    checks.expect(anonymousPost.status === 401, `a logged-out form post answered ${anonymousPost.status}`);
    checks.note(`logged out: /dashboard and ${pagePaths.length + 1} pages (with or without a bearer token) → 303 /dashboard/login, login page ${loginPage.status}, a form post ${anonymousPost.status}`);

    // A read token's session sees the pages, with the run's pairs and its open exposures.
    const read = await login(base, reader.token);
    checks.expect(read.cookie !== null && read.answer.status === 303 && read.answer.location === '/dashboard/now', `login with the read token answered ${read.answer.status} → ${read.answer.location || 'nowhere'}, ${read.cookie ? 'a' : 'no'} session cookie`);
    const wrong = await login(base, 'bet_not-a-token');
    checks.expect(wrong.cookie === null && wrong.answer.status === 401, `login with a wrong token answered ${wrong.answer.status}, ${wrong.cookie ? 'a' : 'no'} session cookie`);
    const readCookie = read.cookie ?? '';
    const seen: string[] = [];
    // Other scenarios run meanwhile: the exposures to find are those open both before and after the page was read.
    const openBefore = new Set(await world.admin.hkeys(keys.reviewOpen));
    let nowPage = '';
    let exposuresPage = '';
    for (const path of ['/dashboard/now', '/dashboard/exposures', '/dashboard/controls', '/dashboard/results']) {
      const r = await call(base, path, { cookie: readCookie });
      checks.expect(r.status === 200 && r.body.includes('audit-reader'), `${path} with the read session answered ${r.status}${r.location ? ` → ${r.location}` : ''}`);
      seen.push(`${path.slice('/dashboard/'.length)} ${r.status}`);
      if (path === '/dashboard/now') nowPage = r.body;
      if (path === '/dashboard/exposures') exposuresPage = r.body;
    }
    const pairsShown = runArbs.filter((arbId) => nowPage.includes(arbId)).length;
    checks.expect(runArbs.length === 0 || pairsShown > 0, `the Now page shows none of the run's ${runArbs.length} pairs`);
    const openReviews = (await world.admin.hkeys(keys.reviewOpen)).filter((arbId) => openBefore.has(arbId));
    const reviewsShown = openReviews.filter((arbId) => exposuresPage.includes(arbId)).length;
    checks.expect(reviewsShown === Math.min(openReviews.length, 200), `the Exposures page shows ${reviewsShown} of the ${openReviews.length} open exposures in ${keys.reviewOpen}`);
    checks.note(`read session: ${seen.join(', ')}; ${pairsShown} of the run's pairs on Now, ${reviewsShown}/${openReviews.length} open exposures on Exposures`);

    // Acting: without the CSRF token, from another site, with a read session or a read bearer token: refused, nothing set.
    const op = await login(base, operator.token);
    const opCookie = op.cookie ?? '';
    const opCsrf = csrfOf((await call(base, '/dashboard/controls', { cookie: opCookie })).body);
    const readCsrf = csrfOf((await call(base, '/dashboard/controls', { cookie: readCookie })).body);
    checks.expect(op.cookie !== null && opCsrf !== '' && readCsrf !== '', 'no operate session or no CSRF token on the Controls page');
    const refusals: Array<[string, Answer]> = [
      ['operate session, no CSRF token', await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: opCookie, headers: sameSite, form: killForm(null, 'set') })],
      ['operate session, another session\'s CSRF token', await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: opCookie, headers: sameSite, form: killForm(readCsrf, 'set') })],
      ['operate session and token, from another site', await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: opCookie, headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, form: killForm(opCsrf, 'set') })],
      ['read session with its CSRF token', await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: readCookie, headers: sameSite, form: killForm(readCsrf, 'set') })],
      ['read bearer token on the JSON API', await call(base, `/api/v1/kill-switches/${encodeURIComponent(`account:${probeScope.whitelabel}:${probeScope.provider}:${probeScope.accountId}`)}`, { method: 'PUT', headers: { authorization: `Bearer ${reader.token}` }, json: { reason: 'audit: read token must not act' } })],
    ];
    const notRefused = refusals.filter(([, r]) => r.status !== 403).map(([what, r]) => `${what}: ${r.status}`);
    checks.expect(notRefused.length === 0, `not refused 403: ${notRefused.join('; ')}`);
    const setByRefused = await world.admin.exists(probeKey);
    checks.expect(setByRefused === 0, `${probeKey} was set by a refused request`);
    checks.note(`refused 403, nothing set: ${refusals.map(([what]) => what).join('; ')}`);

    // The same form with the operate session's token acts (so the refusals above are the guards, not a broken form).
    const set = await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: opCookie, headers: sameSite, form: killForm(opCsrf, 'set') });
    const engaged = await world.admin.exists(probeKey);
    const setEvent = (await world.events()).find((e) => e.type === 'kill_switch_set' && String(e.data.scope ?? e.data.key ?? '').includes(probeScope.accountId));
    const clear = await call(base, '/dashboard/kill-switches', { method: 'POST', cookie: opCookie, headers: sameSite, form: killForm(opCsrf, 'clear') });
    const cleared = (await world.admin.exists(probeKey)) === 0;
    checks.expect(set.status === 303 && engaged === 1, `the operate session's form answered ${set.status}, ${probeKey} ${engaged ? 'set' : 'not set'}`);
    checks.expect(setEvent?.data.by === 'audit-operator' && setEvent.data.via === 'dashboard', `kill_switch_set ${setEvent ? `by ${String(setEvent.data.by)} via ${String(setEvent.data.via)}` : 'missing'}`);
    checks.expect(clear.status === 303 && cleared, `clearing answered ${clear.status}, ${probeKey} ${cleared ? 'gone' : 'still set'}`);
    checks.note(`operate session with its token: ${probeKey} set (${set.status}, kill_switch_set by audit-operator via dashboard) and cleared (${clear.status})`);
    return checks.outcome(did);
  } finally {
    await world.admin.del(probeKey).catch(() => undefined);
    api.child.kill('SIGTERM');
    if ((await exitOf(api.child, 10_000)) === 'still running') api.child.kill('SIGKILL');
  }
}
