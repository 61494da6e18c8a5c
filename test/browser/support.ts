// The browser test rig: the API rig listening on a loopback port, Debian's Chromium driven by playwright-core, logins and screenshots.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Scope } from '../../src/api/config.js';
import { createApiRig, type ApiRig } from '../api/support.js';

/** Debian's chromium (scripts/ensure-deps.sh installs it); CHROMIUM_PATH overrides. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the tests save screenshots: DASHBOARD_SCREENSHOTS_DIR=docs/screenshots refreshes the README's. */
export const screenshotsDir = process.env.DASHBOARD_SCREENSHOTS_DIR ?? join(tmpdir(), 'bet-executor-dashboard-screenshots');

export interface BrowserRig {
  rig: ApiRig;
  browser: Browser;
  url: string;
  /** A fresh browser context (its own cookies) logged in with a token of this scope, on the Now page. */
  login(scope: Scope, viewport?: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function createBrowserRig(apiOverrides: Record<string, unknown> = {}): Promise<BrowserRig> {
  const rig = await createApiRig(apiOverrides, {}, {}, { listen: true });
  const url = rig.api.url ?? '';
  // As root (CI containers) Chromium's sandbox cannot start; the pages are our own.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({ executablePath: chromiumPath, args }).catch(async (error: unknown) => {
    await rig.close();
    throw error;
  });
  mkdirSync(screenshotsDir, { recursive: true });
  return {
    rig, browser, url,
    async login(scope, viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, baseURL: url });
      const page = await context.newPage();
      await page.goto('/dashboard/login');
      await page.getByLabel('API token').fill(rig.tokens[scope]);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL('**/dashboard/now');
      return { context, page };
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(screenshotsDir, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close();
      await rig.close();
    },
  };
}

/** The session's CSRF token as the page holds it (the body's hx-headers), to forge requests from a logged-in context. */
export async function csrfTokenOf(page: Page): Promise<string> {
  const headers = JSON.parse((await page.getAttribute('body', 'hx-headers')) ?? '{}') as Record<string, string>;
  return headers['x-csrf-token'] ?? '';
}
