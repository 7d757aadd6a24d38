/**
 * Helpers of the end-to-end bridge matrix (e2e-bridge-*.test.ts): a relay with a key and an openai
 * client, a fake CloudWaddie bridge, an agent of either kind (the current one, or an old one that
 * passes a 2xx through whatever is in it), one chat's outcome, and what a recording answers.
 */
import type { AgentConfig } from '@arena-relay/bridge-agent';
import OpenAI, { APIError } from 'openai';
import { startTestAgent } from './agent.js';
import { track } from './cleanup.js';
import { cloudWaddieChatScenarios, type Recording, recording } from './cloudwaddie-recordings.js';
import {
  CLOUDWADDIE_KEY,
  type CloudWaddieOptions,
  startCloudWaddieBridge,
} from './fake-bridge-cloudwaddie.js';
import { startPassthroughAgent } from './passthrough-agent.js';
import { startTestRelay, type TestRelayOptions } from './relay.js';

export const MODEL = 'gpt-5-chat';

/** The text a recording answers with: every `delta.content` (streamed) or the message's content. */
export function recordedContent(rec: Recording): string {
  if (rec.status !== 200) return '';
  const text = rec.body.toString('utf8');
  const isStream = rec.headers.some(
    ([name, value]) => name === 'content-type' && value.includes('event-stream'),
  );
  if (!isStream) {
    const json = JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }> };
    return json.choices?.map((choice) => choice.message?.content ?? '').join('') ?? '';
  }
  let content = '';
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const event = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
    content += event.choices?.map((choice) => choice.delta?.content ?? '').join('') ?? '';
  }
  return content;
}

/** Every recorded chat answer (the worker-busy hang aside, which has none): [scenario, streamed]. */
export const FIXTURES = cloudWaddieChatScenarios().flatMap((scenario) =>
  [true, false].flatMap((stream) => {
    const name = `${scenario}-${stream ? 'stream' : 'nonstream'}`;
    try {
      return recording(name).status === 0 ? [] : [[scenario, stream, recording(name)] as const];
    } catch {
      return [];
    }
  }),
);

export type Outcome = { ok: true; text: string } | { ok: false; status: number | undefined; message: string };

/** One chat through the openai SDK: the whole text, or the error it threw. */
export async function ask(client: OpenAI, content: string, stream: boolean, model = MODEL): Promise<Outcome> {
  const messages = [{ role: 'user' as const, content }];
  try {
    if (!stream) {
      const answer = await client.chat.completions.create({ model, messages });
      return { ok: true, text: answer.choices.map((c) => c.message.content ?? '').join('') };
    }
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
      text += chunk.choices.map((c) => c.delta.content ?? '').join('');
    }
    return { ok: true, text };
  } catch (error) {
    if (!(error instanceof APIError)) throw error;
    return { ok: false, status: error.status, message: error.message };
  }
}

export async function relayWithKey(options: TestRelayOptions = {}) {
  const relay = await startTestRelay({ retryAttempts: 3, ...options });
  const key = await relay.createKey();
  const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key.key, maxRetries: 0 });
  return { relay, client };
}

export async function cloudWaddie(options: CloudWaddieOptions = {}) {
  // The matrix sends more than the default 60 requests a minute on one key (its RPM has its own test).
  return track(await startCloudWaddieBridge({ rpm: 100_000, ...options }));
}

/** An agent of `kind` on `relay` serving the bridge at `url` (its origin; `/v1` or `/api/v1` base). */
export async function agentFor(
  kind: 'old' | 'current',
  relay: Awaited<ReturnType<typeof relayWithKey>>['relay'],
  base: string,
  models: string[],
  overrides: Partial<AgentConfig> = {},
  authorization = `Bearer ${CLOUDWADDIE_KEY}`,
) {
  const { token } = await relay.createClient();
  if (kind === 'old')
    return startPassthroughAgent(relay.url, token, { upstream: base, models, authorization });
  return startTestAgent(relay.url, token, base, { upstreamApiKey: authorization.slice(7), ...overrides });
}
