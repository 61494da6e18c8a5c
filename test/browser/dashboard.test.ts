// The operator's dashboard in a real browser (Debian's Chromium): login, live pairs, exposures resolved through the
// form, kill switches through the UI, read-only and cross-site refusals, Bull Board read-only behind the login.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makePair } from '../support/harness.js';
import { auditOf, tokenNames } from '../api/support.js';
import { createBrowserRig, csrfTokenOf, type BrowserRig } from './support.js';

type Pair = ReturnType<typeof makePair>;

function hedgeAccount(pair: Pair): string {
  return String((pair.hedgeBet as { accountId: string }).accountId);
}

async function outcomeOf(b: BrowserRig, pair: Pair): Promise<string> {
  return (await b.rig.h.waitForEvent(pair.arbId, ['arb_executed', 'arb_blocked', 'exposure_alert', 'arb_failed'])).type;
}

describe('the operator dashboard in Chromium', () => {
  let b: BrowserRig;

  before(async () => {
    b = await createBrowserRig();
    await b.rig.h.startWorker();
  });
  after(async () => b?.close());

  it('shows a logged-out visitor nothing but the login page, and refuses an unknown token', async () => {
    const context = await b.browser.newContext({ baseURL: b.url });
    const page = await context.newPage();
    for (const path of ['/dashboard/now', '/dashboard/exposures', '/dashboard/controls', '/dashboard/results', '/dashboard/queues/']) {
      await page.goto(path);
      assert.match(page.url(), /\/dashboard\/login$/, path);
    }
    await page.getByLabel('API token').fill('bet_not-a-real-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not recognised/);
    const refused = (await auditOf(b.rig.h, 'api_request_refused')).filter((e) => e.data.reason === 'unknown_token');
    assert.equal(refused.length, 1);
    await b.screenshot(page, 'login');
    await context.close();
  });

  it('logs in with a token into an HTTP-only SameSite=Strict session cookie and shows pairs as they arrive, without reloading', async () => {
    const { context, page } = await b.login('read');
    const cookie = (await context.cookies()).find((c) => c.name === 'be_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(await page.locator('#whoami').innerText(), tokenNames.read);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });
    const pair = makePair();
    await b.rig.h.enqueue(pair);
    const row = page.locator(`#finished tr[data-arb-id="${pair.arbId}"]`);
    await row.waitFor({ timeout: 5_000 });
    assert.deepEqual(navigations, [], 'the page was not reloaded');
    const text = await row.innerText();
    assert.match(text, /bookA/);
    assert.match(text, /bookB/);
    assert.match(text, /executed/);
    // Filters: another bookmaker's account hides it.
    await page.goto(`/dashboard/now?accountId=${hedgeAccount(pair)}`);
    await row.waitFor();
    await page.goto('/dashboard/now?accountId=nobody');
    assert.equal(await page.locator(`tr[data-arb-id="${pair.arbId}"]`).count(), 0);
    await context.close();
  });

  it('lists an exposure within 2 s of its alert, opens its journal and audit trail in one click, and resolves it through the form', async () => {
    const { context, page } = await b.login('operate');
    await page.goto('/dashboard/exposures');
    const exposed = makePair();
    b.rig.h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: hedgeAccount(exposed) }, count: 100 });
    await b.rig.h.enqueue(exposed);
    const alert = await b.rig.h.waitForEvent(exposed.arbId, ['exposure_alert']);
    // From the alert's own time (its stream id is Redis's clock in ms), not from when the test noticed it.
    const alertAtMs = Number(alert.id.split('-')[0]);
    const card = page.locator(`[data-exposure-id="${exposed.arbId}"]`);
    await card.waitFor({ timeout: Math.max(1, alertAtMs + 2_000 - Date.now()) });
    assert.ok(Date.now() - alertAtMs <= 2_000, `listed ${Date.now() - alertAtMs} ms after the alert`);
    assert.match(await card.innerText(), /hedge_failed_positive_active/);
    await b.screenshot(page, 'exposures');

    await card.getByRole('link', { name: 'Review and resolve' }).click();
    await page.locator('#audit').waitFor();
    assert.ok(await page.locator('#audit tbody tr').count() > 0, 'the audit trail is on the page');
    await page.getByLabel(/Note/).fill('hedged by hand at bookB, ticket 991');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.waitForURL('**/dashboard/exposures');
    assert.equal(await page.locator(`#open-exposures [data-exposure-id="${exposed.arbId}"]`).count(), 0);
    assert.match(await page.locator('#resolved').innerText(), /hedged by hand at bookB, ticket 991/);

    const [resolved] = (await auditOf(b.rig.h, 'exposure_resolved')).filter((e) => e.data.id === exposed.arbId);
    assert.equal(resolved?.data.resolvedBy, tokenNames.operate);
    assert.equal(resolved?.data.note, 'hedged by hand at bookB, ticket 991');
    const again = makePair({ betPairId: exposed.betPairId });
    await b.rig.h.enqueue(again);
    assert.equal(await outcomeOf(b, again), 'arb_executed', 'the betPairId is unblocked');
    await context.close();
  });

  it('sets and clears the global kill switch through the UI: a banner on every page, a new pair blocked, then allowed', async () => {
    const { context, page } = await b.login('operate');
    await page.goto('/dashboard/controls');
    const form = page.locator('#set-kill-switch');
    await form.getByLabel('global (every pair)').check();
    await form.getByLabel('Reason (required)').fill('bookA paying late');
    await form.getByRole('button', { name: 'Engage' }).click();
    await page.waitForURL('**/dashboard/controls');
    for (const path of ['/dashboard/now', '/dashboard/results', '/dashboard/controls']) {
      await page.goto(path);
      assert.match(await page.locator('#kill-banner').innerText(), /global — bookA paying late/, path);
    }
    await b.screenshot(page, 'controls');
    const blocked = makePair();
    await b.rig.h.enqueue(blocked);
    assert.equal(await outcomeOf(b, blocked), 'arb_blocked');
    const [set] = (await auditOf(b.rig.h, 'kill_switch_set')).slice(-1);
    assert.deepEqual([set?.data.by, set?.data.via, set?.data.reason], [tokenNames.operate, 'dashboard', 'bookA paying late']);

    const row = page.locator('#kill-switches tr[data-scope="global"]');
    await row.getByLabel(/Reason for clearing/).fill('bookA paid');
    await row.getByRole('button', { name: 'Clear global' }).click();
    await page.waitForURL('**/dashboard/controls');
    await page.locator('#no-kill-switches').waitFor();
    assert.equal(await page.locator('#kill-banner').innerText(), '');
    const allowed = makePair();
    await b.rig.h.enqueue(allowed);
    assert.equal(await outcomeOf(b, allowed), 'arb_executed');
    await context.close();
  });

  it('gives a read token no form to act with, and refuses its forged POSTs (403, audited)', async () => {
    const { context, page } = await b.login('read');
    await page.goto('/dashboard/controls');
    assert.equal(await page.locator('form#set-kill-switch').count(), 0);
    const csrf = await csrfTokenOf(page);
    const forged = await page.request.post('/dashboard/kill-switches', { form: { _csrf: csrf, action: 'set', kind: 'global', reason: 'forged' } });
    assert.equal(forged.status(), 403);
    assert.equal(await b.rig.h.redis.exists('be:kill:global'), 0);
    const resolve = await page.request.post('/dashboard/exposures/arb-any/resolve', { form: { _csrf: csrf, note: 'forged' } });
    assert.equal(resolve.status(), 403);
    const refused = (await auditOf(b.rig.h, 'api_request_refused')).filter((e) => e.data.tokenName === tokenNames.read && e.data.reason === 'scope');
    assert.equal(refused.length, 2);
    await context.close();
  });

  it('refuses a POST without the session\'s CSRF token, and a cross-site form post', async () => {
    const { context, page } = await b.login('operate');
    const noToken = await page.request.post('/dashboard/kill-switches', { form: { action: 'set', kind: 'global', reason: 'no token' } });
    assert.equal(noToken.status(), 403);
    // A real cross-site page (localhost is another site than 127.0.0.1) that auto-submits a form to the dashboard.
    const target = `${b.url}/dashboard/kill-switches`;
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${target}"><input name="action" value="set"><input name="kind" value="global"><input name="reason" value="evil"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, 'localhost', resolve));
    try {
      const answer = page.waitForResponse((r) => r.url() === target);
      await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      assert.ok([401, 403].includes((await answer).status()), `cross-site post answered ${(await answer).status()}`);
    } finally {
      evil.close();
    }
    assert.equal(await b.rig.h.redis.exists('be:kill:global'), 0);
    await context.close();
  });

  it('shows P&L, outcomes and the charts on Results, and fits a phone screen', async () => {
    await b.rig.api.projectPnl();
    const { context, page } = await b.login('read');
    await page.goto('/dashboard/results');
    await page.locator('body[data-charts="drawn"]').waitFor();
    assert.equal(await page.locator('.uplot').count(), 2);
    assert.match(await page.locator('#outcomes').innerText(), /executed/);
    await b.screenshot(page, 'results');
    await b.screenshot(await (async () => { await page.goto('/dashboard/now'); return page; })(), 'now');
    // Every visible form control has a label.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter((el) => (el as HTMLInputElement).labels?.length === 0).length);
    assert.equal(unlabelled, 0);
    await context.close();
    const phone = await b.login('operate', { width: 390, height: 844 });
    for (const path of ['/dashboard/now', '/dashboard/exposures', '/dashboard/controls']) {
      await phone.page.goto(path);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${path} is ${overflow} px wider than a phone`);
    }
    await b.screenshot(phone.page, 'exposures-phone');
    await phone.context.close();
  });

  it('serves Bull Board behind the login, read-only: no retry button, and a retry on bet-pairs refused', async () => {
    const { context, page } = await b.login('operate');
    await page.goto('/dashboard/queues/');
    await page.getByText('bet-pairs').first().waitFor();
    await page.waitForLoadState('networkidle');
    await b.screenshot(page, 'queues');
    await page.goto('/dashboard/queues/queue/bet-pairs?status=completed');
    await page.getByText('bet-pairs').first().waitFor();
    assert.equal(await page.getByRole('button', { name: /retry/i }).count(), 0);
    const before = await b.rig.h.queue.getJobCounts();
    const retry = await page.request.put('/dashboard/queues/api/queues/bet-pairs/retry/completed', { headers: { 'x-csrf-token': await csrfTokenOf(await (async () => { await page.goto('/dashboard/now'); return page; })()) } });
    assert.equal(retry.status(), 405);
    assert.deepEqual(await b.rig.h.queue.getJobCounts(), before);
    await context.close();
  });
});
