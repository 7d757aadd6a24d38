/**
 * The other bridges end to end: WebAI2API and an Ollama-like OpenAI server (from their documented
 * shapes) with the current agent and an old pass-through one, and `bridge: auto` telling all four
 * dialects apart. The CloudWaddie recordings are e2e-bridge-matrix.test.ts's.
 */
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { agentFor, ask, cloudWaddie, MODEL, relayWithKey } from './support/bridge-matrix.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { CLOUDWADDIE_KEY } from './support/fake-bridge-cloudwaddie.js';
import {
  type OpenAiBridgeOptions,
  startOpenAiBridge,
  WEBAI2API_ERRORS,
} from './support/fake-bridge-openai.js';

describe('bridge: auto finds each dialect end to end', () => {
  it('CloudWaddie, WebAI2API, an Ollama-like server and v2.7.6, each named in /api/agents and served', async () => {
    const { relay, client } = await relayWithKey({ retryAttempts: 0 });
    const bridges = [
      { url: (await cloudWaddie()).url, key: CLOUDWADDIE_KEY, dialect: 'lmarenabridge-cw', model: MODEL },
      {
        url: track(await startOpenAiBridge({ dialect: 'webai2api', apiKey: 'web-key' })).url,
        key: 'web-key',
        dialect: 'webai2api',
        model: 'gemini-2.5-pro',
      },
      {
        url: track(await startOpenAiBridge({ dialect: 'openai' })).url,
        dialect: 'openai',
        model: 'llama3.2',
      },
      {
        url: track(await startFakeBridge({ models: ['gpt-5'] })).url,
        dialect: 'lmarenabridge-v2',
        model: 'gpt-5',
      },
    ];
    for (const bridge of bridges) {
      const { token } = await relay.createClient(bridge.dialect);
      await startTestAgent(relay.url, token, bridge.url, bridge.key ? { upstreamApiKey: bridge.key } : {});
    }
    const rows = async () =>
      (
        (await relay.admin('GET', '/api/agents')).json.agents as Array<{
          bridge: string | null;
          ready: boolean;
        }>
      )
        .filter((row) => row.ready)
        .map((row) => row.bridge)
        .sort();
    await expect.poll(rows, { timeout: 5000 }).toEqual(bridges.map((b) => b.dialect).sort());
    for (const bridge of bridges) {
      const outcome = await ask(client, 'fixture:text', true, bridge.model);
      expect(outcome).toMatchObject({ ok: true, text: expect.stringMatching(/\S/) });
    }
  });
});

describe.each(['old', 'current'] as const)('WebAI2API and OpenAI-compatible bridges, %s agent', (kind) => {
  const cases: Array<[string, OpenAiBridgeOptions, string, string, boolean]> = [
    ['webai2api ok', { dialect: 'webai2api' }, 'gemini-2.5-pro', 'ok', true],
    ...Object.keys(WEBAI2API_ERRORS).map(
      (scenario) =>
        [`webai2api ${scenario}`, { dialect: 'webai2api' }, 'gemini-2.5-pro', scenario, false] as [
          string,
          OpenAiBridgeOptions,
          string,
          string,
          boolean,
        ],
    ),
    ['openai ok', { dialect: 'openai' }, 'llama3.2', 'ok', true],
    ['openai empty', { dialect: 'openai' }, 'llama3.2', 'empty', false],
    ['openai error', { dialect: 'openai' }, 'llama3.2', 'error', false],
    ['openai overloaded', { dialect: 'openai' }, 'llama3.2', 'overloaded', false],
  ];
  it('each scenario, streamed and not: the whole answer or an error, never an empty success', async () => {
    const { relay, client } = await relayWithKey({ retryAttempts: 0 });
    const web = track(await startOpenAiBridge({ dialect: 'webai2api', apiKey: 'web-key' }));
    const ollama = track(await startOpenAiBridge({ dialect: 'openai' }));
    await agentFor(
      kind,
      relay,
      kind === 'old' ? web.baseUrl : web.url,
      ['gemini-2.5-pro'],
      { bridge: 'webai2api' },
      'Bearer web-key',
    );
    await agentFor(
      kind,
      relay,
      kind === 'old' ? ollama.baseUrl : ollama.url,
      ['llama3.2'],
      { bridge: 'openai' },
      'Bearer none',
    );
    await expect.poll(async () => (await client.models.list()).data.length).toBe(2);
    const wrong: string[] = [];
    for (const [name, , model, scenario, succeeds] of cases) {
      for (const stream of [true, false]) {
        const outcome = await ask(client, `scenario:${scenario}`, stream, model);
        const right = succeeds
          ? outcome.ok && outcome.text === 'Hello from a home GPU.'
          : !outcome.ok && (outcome.status ?? 0) >= 400;
        if (!right) wrong.push(`${name} (streamed ${stream}): ${JSON.stringify(outcome)}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 30_000);
});
