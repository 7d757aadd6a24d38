/**
 * Model aliases and OpenRouter-style `models: [...]` fallbacks through relay + agents, with the
 * real `openai` client: the first model a bridge serves wins, a model that fails before the first
 * byte hands over to the next, the answer names the model that served, and a key's allow-list
 * applies to the models that would serve.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

async function stack() {
  const relay = await startTestRelay();
  // Two bridges with no model in common: which one answered tells which model was routed.
  const mini = track(await startFakeBridge({ models: ['gpt-5-mini'] }));
  const haiku = track(await startFakeBridge({ models: ['claude-haiku-4'] }));
  for (const bridge of [mini, haiku]) {
    const client = await relay.createClient();
    await startTestAgent(relay.url, client.token, bridge.url);
  }
  const { key } = await relay.createKey();
  const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
  return { relay, mini, haiku, openai };
}

const sentModel = (bridge: { requests: Array<{ path: string; body: unknown }> }) =>
  bridge.requests
    .filter((r) => r.path === '/v1/chat/completions')
    .map((r) => (r.body as { model: string }).model);

describe('model aliases and fallbacks', () => {
  it('an alias is served by its first model a bridge offers; the answer names that model', async () => {
    const { relay, mini, haiku, openai } = await stack();
    await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-4o', 'claude-haiku-4', 'gpt-5-mini'] });
    const answer = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.model).toBe('claude-haiku-4');
    expect(answer.choices[0]?.message.content).toBe(DEFAULT_CHUNKS.join(''));
    expect(sentModel(haiku)).toEqual(['claude-haiku-4']);
    expect(sentModel(mini)).toEqual([]);
  });

  it('`models: [...]` falls back past a model that fails before the first byte, streamed', async () => {
    const { mini, haiku, openai } = await stack();
    haiku.scenario = 'error';
    // OpenRouter's `models` is not in the openai types; the client sends unknown fields as they are.
    const params = { model: 'claude-haiku-4', models: ['gpt-5-mini'], stream: true as const };
    const stream = await openai.chat.completions.create({
      ...params,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let content = '';
    const served = new Set<string>();
    for await (const chunk of stream) {
      served.add(chunk.model);
      content += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(content).toBe(DEFAULT_CHUNKS.join(''));
    expect([...served]).toEqual(['gpt-5-mini']);
    expect(sentModel(haiku)).toEqual(['claude-haiku-4']);
    // The bridge is sent one model and no fallback list.
    expect(mini.requests.at(-1)?.body).not.toHaveProperty('models');
    expect(sentModel(mini)).toEqual(['gpt-5-mini']);
  });

  it("an alias whose first model's only bridge answers 503: the second model serves, usage counted under it", async () => {
    const { relay, mini, haiku, openai } = await stack();
    await relay.admin('PUT', '/api/aliases/fast', { models: ['claude-haiku-4', 'gpt-5-mini'] });
    haiku.scenario = 'tab-closed';
    const answer = await openai.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.model).toBe('gpt-5-mini');
    expect(sentModel(haiku)).toEqual(['claude-haiku-4']);
    expect(sentModel(mini)).toEqual(['gpt-5-mini']);
    // Usage is recorded when the request finishes, just after the consumer's end.
    await expect
      .poll(async () => {
        const usage = (await relay.admin('GET', '/api/usage?group_by=model')).json;
        return usage.groups.map((g: { model: string; requests: number }) => [g.model, g.requests]);
      })
      .toEqual([['gpt-5-mini', 1]]);
  });

  it('a key limited to some models is served by the allowed one of an alias, refused with none', async () => {
    const { relay, haiku, mini } = await stack();
    await relay.admin('PUT', '/api/aliases/fast', { models: ['claude-haiku-4', 'gpt-5-mini'] });
    const created = await relay.admin('POST', '/api/keys', {
      name: 'mini only',
      allowed_models: ['gpt-5-mini'],
    });
    const limited = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: created.json.key, maxRetries: 0 });
    const answer = await limited.chat.completions.create({
      model: 'fast',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.model).toBe('gpt-5-mini');
    expect(sentModel(haiku)).toEqual([]);
    expect(sentModel(mini)).toEqual(['gpt-5-mini']);

    await relay.admin('PUT', '/api/aliases/smart', { models: ['claude-haiku-4'] });
    const refused = await limited.chat.completions
      .create({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((refused as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain(
      "'smart' (claude-haiku-4)",
    );
  });

  it('a fallback list that is too long or not strings is a 400 on `models`', async () => {
    const { relay, openai } = await stack();
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${openai.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'x',
        models: Array(9).fill('y'),
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('models');
  });
});
