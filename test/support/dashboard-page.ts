/**
 * A Chromium page signed in to a relay's dashboard at a given viewport, recording script errors
 * and CSP violations (a test asserts none happened, bar the refusals it provoked).
 */
import type { Browser, Locator, Page } from 'playwright-core';
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

/**
 * The page's width against the viewport's, with the outermost elements past the right edge (not
 * inside a scroller) named, to say what to fix. Runs in the page as a string: this file is
 * type-checked without the DOM's types.
 */
export function widthsOf(page: Page): Promise<{ page: number; viewport: number; past: string[] }> {
  return page.evaluate(`(() => {
    const over = (n) => n.getBoundingClientRect().right > innerWidth + 0.5;
    const clipped = (n) => {
      for (let a = n.parentElement; a && a !== document.body; a = a.parentElement)
        if (getComputedStyle(a).overflowX !== 'visible') return true;
      return false;
    };
    const past = [...document.querySelectorAll('body *')].filter(
      (n) => over(n) && !clipped(n) && !(n.parentElement !== document.body && over(n.parentElement)),
    );
    return {
      page: document.documentElement.scrollWidth,
      viewport: innerWidth,
      past: past.slice(0, 5).map((n) => n.tagName.toLowerCase() + '#' + n.id + '.' + n.className),
    };
  })()`);
}

/**
 * How far `button` sticks out of the viewport and of its scrolling table, px (≤ 0: fully in),
 * and whether something else covers its middle.
 */
export async function overflowOf(page: Page, button: Locator): Promise<{ right: number; covered: boolean }> {
  const box = await button.boundingBox();
  if (!box) throw new Error('the button is not shown');
  const scroller = button.locator('xpath=ancestor::div[contains(@class, "table-wrap")][1]');
  const wrap = (await scroller.count()) > 0 ? await scroller.boundingBox() : null;
  const viewport = page.viewportSize()?.width ?? 0;
  const edge = Math.min(viewport, wrap ? wrap.x + wrap.width : viewport);
  // Run in the page as a string: this file is type-checked without the DOM's types.
  const hit = await page.evaluate(
    `document.elementFromPoint(${box.x + box.width / 2}, ${box.y + box.height / 2})?.closest('button')?.getAttribute('aria-label') ?? null`,
  );
  return { right: box.x + box.width - edge, covered: hit !== (await button.getAttribute('aria-label')) };
}
