/**
 * A Chromium page signed in to a relay's dashboard at a given viewport, recording script errors
 * and CSP violations (a test asserts none happened, bar the refusals it provoked).
 */
import type { Browser, Page } from 'playwright-core';
import { track } from './cleanup.js';

export type DashboardPage = { page: Page; problems: string[] };

export async function openDashboard(
  browser: Browser,
  relay: { url: string; adminToken: string },
  viewport: { width: number; height: number },
): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  track({ close: () => context.close() });
  const page = await context.newPage();
  page.setDefaultTimeout(8_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${relay.url}/dashboard`);
  await page.getByLabel('Admin token').fill(relay.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
  return { page, problems };
}
