/**
 * A client package whose agent would dial the relay in clear (plain http) or could not reach it
 * from another machine (loopback) is flagged on the download — an `X-Package-Warning` header the
 * dashboard shows, and a section of the package README — and a package with an https address
 * on a public name is not.
 */
import { unzipSync } from 'fflate';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

async function download(relay: TestRelay, id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${relay.url}/api/clients/${id}/download`, {
    headers: { authorization: `Bearer ${relay.adminToken}`, ...headers },
  });
  expect(res.status).toBe(200);
  const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
  const readme = new TextDecoder().decode(files[`arena-agent-${id}/README.md`]);
  return { warning: res.headers.get('x-package-warning'), readme };
}

describe('package transport warnings', () => {
  it('flags a package from a relay with no https address, reached on localhost: plain and loopback', async () => {
    const relay = await startTestRelay();
    const { id } = await relay.createClient();
    const { warning, readme } = await download(relay, id);
    expect(warning).toMatch(/plain http \(no TLS\): its client token.* in clear.*TLS_CERT_FILE.*PUBLIC_URL/);
    expect(warning).toMatch(/loopback .* cannot reach it\. Set PUBLIC_URL/);
    expect(readme).toContain(`## Warning: ${relay.url}`);
    expect(readme).toMatch(/plain http \(no TLS\)/);
    expect(readme).toMatch(/relay address is loopback/);
    // The section comes before the instructions, where the owner reads first.
    expect(readme.indexOf('## Warning')).toBeLessThan(readme.indexOf('## Run it'));
  });

  it('flags a plain http PUBLIC_URL on a public name as plain only', async () => {
    const relay = await startTestRelay({ publicUrl: 'http://relay.example.org:8787' });
    const { id } = await relay.createClient();
    const { warning, readme } = await download(relay, id);
    expect(warning).toMatch(/plain http/);
    expect(warning).not.toMatch(/loopback/);
    expect(readme).toContain('## Warning: http://relay.example.org:8787');
  });

  it('flags an https address on localhost as loopback only', async () => {
    const relay = await startTestRelay({ publicUrl: 'https://localhost:8443' });
    const { id } = await relay.createClient();
    const { warning } = await download(relay, id);
    expect(warning).toMatch(/loopback/);
    expect(warning).not.toMatch(/plain http/);
  });

  it('says nothing for an https address on a public name (PUBLIC_URL, or a trusted TLS proxy)', async () => {
    const pinned = await startTestRelay({ publicUrl: 'https://arena.example.org/relay' });
    const a = await pinned.createClient();
    const fixed = await download(pinned, a.id);
    expect(fixed.warning).toBeNull();
    expect(fixed.readme).not.toContain('## Warning');

    const proxied = await startTestRelay({ trustProxy: true });
    const b = await proxied.createClient();
    const behind = await download(proxied, b.id, {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'relay.example.com',
    });
    expect(behind.warning).toBeNull();
  });
});

describe('package transport warnings: in the dashboard', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the warning in the Clients tab after the download', async () => {
    const relay = await startTestRelay();
    await relay.createClient("Bob's bridge");
    const context = await browser.newContext({ acceptDownloads: true });
    track({ close: () => context.close() });
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    await page.goto(`${relay.url}/dashboard`);
    await page.getByLabel('Admin token').fill(relay.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Clients' }).click();
    const notice = page.locator('#package-warning');
    expect(await notice.isHidden()).toBe(true);
    await page.getByRole('button', { name: "Download the package of Bob's bridge" }).click();
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download and replace the token' }).click();
    await downloading;
    await expect
      .poll(() => notice.textContent(), DASHBOARD_POLL)
      .toMatch(/^Package of Bob's bridge: .*plain http \(no TLS\).*loopback/);
    expect(await notice.isVisible()).toBe(true);
  });
});
