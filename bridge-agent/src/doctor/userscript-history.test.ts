import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkUserscriptHistory } from './userscript-history.js';

let server: Server | undefined;
afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A running agent's status server answering `status` and `stats`. */
async function agentStatus(status: object, stats: object): Promise<number> {
  server = createServer((req, res) => {
    const body = req.url === '/platform/status' ? status : req.url === '/stats' ? stats : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe("doctor: has v2.7.6's userscript ever connected", () => {
  it('fails with the @match fix when the running agent calls it outdated', async () => {
    const port = await agentStatus({ ready: false, ready_code: 'userscript_outdated' }, { successes: 0 });
    expect(await checkUserscriptHistory(port, 1000)).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('@match https://arena.ai/*'),
    });
  });

  it('is ok once a chat was served, warns before, and says nothing without a running agent', async () => {
    const port = await agentStatus({ ready: true, ready_code: null }, { successes: 3 });
    expect(await checkUserscriptHistory(port, 1000)).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('3 requests'),
    });
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const idle = await agentStatus({ ready: true }, { successes: 0 });
    expect(await checkUserscriptHistory(idle, 1000)).toMatchObject({ status: 'warn' });
    expect(await checkUserscriptHistory(-1, 1000)).toBeUndefined();
    expect(await checkUserscriptHistory(1, 500)).toBeUndefined();
  });
});
