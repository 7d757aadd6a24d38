/**
 * `/api/aliases`: the operator's model aliases over the admin API, on the embedded store and on a
 * Redis cluster where a change made on one relay is read by the other.
 */
import { describe, expect, it } from 'vitest';
import { startTestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

describe('/api/aliases', () => {
  it('creates, lists, replaces and deletes aliases; refuses bad ones with a 400', async () => {
    const relay = await startTestRelay();
    expect((await relay.admin('GET', '/api/aliases')).json).toEqual({ aliases: {} });

    const put = await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-5-mini', 'claude-haiku-4'] });
    expect(put).toEqual({ status: 200, json: { name: 'fast', models: ['gpt-5-mini', 'claude-haiku-4'] } });
    await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-5-mini'] });
    expect((await relay.admin('GET', '/api/aliases')).json).toEqual({ aliases: { fast: ['gpt-5-mini'] } });

    const nested = await relay.admin('PUT', '/api/aliases/both', { models: ['fast'] });
    expect(nested.status).toBe(400);
    expect(nested.json.error).toMatchObject({
      param: 'models',
      message: expect.stringContaining('alias itself'),
    });
    const unicode = await relay.admin('PUT', `/api/aliases/${encodeURIComponent('schnell-ü')}`, {
      models: ['x'],
    });
    expect(unicode.status).toBe(400);
    expect(unicode.json.error.param).toBe('name');
    expect((await relay.admin('PUT', '/api/aliases/x', { models: 'gpt-5' })).status).toBe(400);
    expect((await relay.admin('PUT', '/api/aliases/x', { models: ['a'], extra: 1 })).status).toBe(400);

    expect(await relay.admin('DELETE', '/api/aliases/fast')).toEqual({
      status: 200,
      json: { name: 'fast', deleted: true },
    });
    expect((await relay.admin('DELETE', '/api/aliases/fast')).status).toBe(404);
  });

  it('needs the admin token', async () => {
    const relay = await startTestRelay();
    const res = await fetch(`${relay.url}/api/aliases`);
    expect(res.status).toBe(401);
  });

  it('is shared by the relays of a cluster: a change on one is read on the other', async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [(typeof relays)[0], (typeof relays)[0]];
    await a.admin('PUT', '/api/aliases/fast', { models: ['gpt-5-mini', 'claude-haiku-4'] });
    expect((await b.admin('GET', '/api/aliases')).json.aliases).toEqual({
      fast: ['gpt-5-mini', 'claude-haiku-4'],
    });
    await b.admin('DELETE', '/api/aliases/fast');
    expect((await a.admin('GET', '/api/aliases')).json.aliases).toEqual({});
  });
});
