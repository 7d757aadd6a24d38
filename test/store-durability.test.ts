/**
 * kill -9 durability of the embedded store: a registration or key acknowledged with 201 is on
 * disk, even when the relay is SIGKILLed the instant the answer arrives.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectRawAgent } from './support/raw-agent.js';
import { type RelayProcess, startRelayProcess } from './support/relay-process.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field.
type AnyJson = any;

const ADMIN_TOKEN = 'durability-admin-token-0123456789';

/** POSTs JSON; SIGKILLs the relay the moment a 201 status line arrives, then reads the body. */
function postThenKill(relay: RelayProcess, path: string, body: unknown) {
  return new Promise<{ status: number; json: AnyJson }>((resolve, reject) => {
    const req = request(
      `${relay.url}${path}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      },
      (res) => {
        if (res.statusCode === 201) relay.child.kill('SIGKILL');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('embedded store durability', () => {
  it('keeps a client and a key acknowledged just before kill -9', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arena-durable-'));
    const env = { DATA_DIR: dataDir, ADMIN_TOKEN };

    const first = await startRelayProcess(env);
    const client = await postThenKill(first, '/api/clients', { name: 'durable bridge' });
    expect(client.status).toBe(201);
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await startRelayProcess(env);
    const key = await postThenKill(second, '/api/keys', { name: 'durable key' });
    expect(key.status).toBe(201);
    await second.exited;
    expect(second.child.signalCode).toBe('SIGKILL');

    const third = await startRelayProcess(env);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const clients = (await (await fetch(`${third.url}/api/clients`, { headers: admin })).json()) as AnyJson;
    expect(clients.clients).toEqual([
      expect.objectContaining({ id: client.json.client.id, name: 'durable bridge' }),
    ]);
    const keys = (await (await fetch(`${third.url}/api/keys`, { headers: admin })).json()) as AnyJson;
    expect(keys.keys).toEqual([expect.objectContaining({ id: key.json.id, name: 'durable key' })]);

    const models = await fetch(`${third.url}/v1/models`, {
      headers: { authorization: `Bearer ${key.json.key}` },
    });
    expect(models.status).toBe(200);
    const agent = await connectRawAgent(third.url, client.json.token);
    expect(agent.frames.some((f) => f.type === 'welcome')).toBe(true);

    // And neither secret reached the disk in the clear.
    const raw = ['relay.db', 'relay.db-wal']
      .map((f) => join(dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    expect(raw).not.toContain(client.json.token.slice(10));
    expect(raw).not.toContain(key.json.key.slice(10));
  });
});
