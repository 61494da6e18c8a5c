// The dashboard's page frame: navigation, who is logged in, the kill-switch banner (live), and the login page.
import type { KillSwitchView } from '../store/ops.js';
import { html, raw, type Html } from './html.js';
import type { Session } from './session.js';

export type PageName = 'now' | 'exposures' | 'controls' | 'results' | 'queues' | 'pair';

const nav: Array<{ page: PageName; label: string; href: string }> = [
  { page: 'now', label: 'Now', href: '/dashboard/now' },
  { page: 'exposures', label: 'Exposures', href: '/dashboard/exposures' },
  { page: 'controls', label: 'Controls', href: '/dashboard/controls' },
  { page: 'results', label: 'Results', href: '/dashboard/results' },
  { page: 'queues', label: 'Queues', href: '/dashboard/queues/' },
];

export interface Frame {
  title: string;
  page: PageName;
  session: Session;
  killSwitches: KillSwitchView[];
  refreshMs: number;
  /** A line shown once above the content (what the last action did). */
  flash?: string | null;
  /** Extra scripts (vendored, same origin). */
  scripts?: string[];
  styles?: string[];
}

function head(title: string, styles: string[] = []): Html {
  return html`<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}'>
<title>${title} · bet-executor</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
${styles.map((href) => html`<link rel="stylesheet" href="${href}">`)}`;
}

/** The banner of engaged kill switches; polled on every page so that a switch set elsewhere shows within refreshMs. */
export function killBanner(switches: KillSwitchView[], refreshMs: number): Html {
  const poll = html`hx-get="/dashboard/fragments/kill-banner" hx-trigger="every ${refreshMs}ms" hx-swap="outerHTML"`;
  if (switches.length === 0) return html`<div id="kill-banner" ${poll}></div>`;
  return html`<div id="kill-banner" class="banner banner-kill" role="alert" ${poll}>
  <strong>Kill switch engaged:</strong>
  <ul>${switches.map((s) => html`<li><span class="scope">${s.scope}</span> — ${s.reason}${s.by ? html` <span class="muted">(by ${s.by}${s.via ? ` via ${s.via}` : ''})</span>` : ''}</li>`)}</ul>
  <a href="/dashboard/controls">Controls</a>
</div>`;
}

export function page(frame: Frame, content: Html): Html {
  const { session } = frame;
  return html`<!doctype html>
<html lang="en">
<head>${head(frame.title, frame.styles)}</head>
<body hx-headers='${JSON.stringify({ 'x-csrf-token': session.csrfToken })}'>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">bet-executor</span>
  <nav aria-label="Dashboard pages"><ul>
    ${nav.map((n) => html`<li><a href="${n.href}"${n.page === frame.page ? raw(' aria-current="page"') : ''}>${n.label}</a></li>`)}
  </ul></nav>
  <form class="who" method="post" action="/dashboard/logout">
    <span><span class="muted">signed in as</span> <strong id="whoami">${session.name}</strong> <span class="badge">${session.scope}</span></span>
    <input type="hidden" name="_csrf" value="${session.csrfToken}">
    <button type="submit" class="link">Log out</button>
  </form>
</header>
${killBanner(frame.killSwitches, frame.refreshMs)}
<main id="main">
<h1>${frame.title}</h1>
${frame.flash ? html`<p class="flash" role="status">${frame.flash}</p>` : ''}
${content}
</main>
<script src="/dashboard/assets/htmx.min.js"></script>
${(frame.scripts ?? []).map((src) => html`<script src="${src}"></script>`)}
</body>
</html>`;
}

export function loginPage(csrfToken: string, message: string | null): Html {
  return html`<!doctype html>
<html lang="en">
<head>${head('Log in')}</head>
<body class="login">
<main id="main">
<h1>bet-executor dashboard</h1>
<form method="post" action="/dashboard/login" class="card">
  <p>Log in with an API token: <strong>read</strong> to see, <strong>operate</strong> to act.</p>
  ${message ? html`<p class="error" role="alert">${message}</p>` : ''}
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="off" required maxlength="256" autofocus>
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <button type="submit">Log in</button>
</form>
</main>
</body>
</html>`;
}

export function errorPage(status: number, message: string): Html {
  return html`<!doctype html>
<html lang="en">
<head>${head(`Error ${status}`)}</head>
<body>
<main id="main" class="card">
<h1>Error ${status}</h1>
<p class="error" role="alert">${message}</p>
<p><a href="/dashboard/now">Back to the dashboard</a></p>
</main>
</body>
</html>`;
}
