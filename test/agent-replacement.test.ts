/**
 * A second session of the same agent process (same client, same `instanceId`) on one relay: the
 * agent dialled it again (after another relay's `goaway`, or through a balancer), or its old
 * socket went half-open. The new session takes every new stream; the old one is never cut while
 * a stream runs on it, closes (4001) once idle, and is cleared by the heartbeat when really dead.
 */
import { CloseCode } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { connectRawAgent, type RawAgent } from './support/raw-agent.js';
import { readRest } from './support/read-rest.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const INSTANCE = { hello: { instanceId: 'instance-replaced-01' } };

function stream(relay: TestRelay, key: string): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
}

/** A stream opened on `agent`, its head and first chunk through to the consumer. */
async function running(relay: TestRelay, key: string, agent: RawAgent) {
  const answer = stream(relay, key);
  const open = await agent.next('open');
  agent.head(open.stream, 'text/event-stream');
  agent.data(open.stream, 'data: one\n\n');
  const reader = (await answer).body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
  return { open, reader };
}

describe('a new session of the same agent', () => {
  it('takes new streams while the old one finishes its stream uncut, then the old one closes', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const old = await connectRawAgent(relay.url, token, INSTANCE);
    const first = await running(relay, key, old);

    const fresh = await connectRawAgent(relay.url, token, INSTANCE);
    const [oldSession, newSession] = relay.hub.list();
    expect(oldSession!.draining).toBe(true);
    expect(oldSession!.closed).toBe(false);
    expect(newSession!.routable).toBe(true);

    // A new request goes to the new session, not the draining one.
    const second = await running(relay, key, fresh);
    expect(old.frames.filter((f) => f.type === 'open')).toHaveLength(1);

    // The old stream runs on to its end, byte-exact; only then is the old socket closed.
    old.data(first.open.stream, 'data: two\n\n');
    old.end(first.open.stream);
    expect(await readRest(first.reader)).toBe('data: two\n\n');
    const closed = await old.closed;
    expect(closed.code).toBe(CloseCode.REPLACED);
    expect(closed.reason).toMatch(/replaced by a new session/);
    expect(relay.hub.list()).toEqual([newSession]);

    fresh.end(second.open.stream);
    expect(await readRest(second.reader)).toBe('');
  });

  it('the old session, still finishing a stream, does not count against the client’s agents', async () => {
    const relay = await startTestRelay({ maxAgentsPerClient: 1 });
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const old = await connectRawAgent(relay.url, token, INSTANCE);
    const first = await running(relay, key, old);
    const fresh = await connectRawAgent(relay.url, token, INSTANCE);
    expect(relay.hub.sessions.size).toBe(2);
    // A third agent of the client is still one too many.
    const other = await connectRawAgent(relay.url, token, { hello: { instanceId: 'instance-other-01' } });
    expect((await other.closed).reason).toMatch(/too many agents/);
    old.end(first.open.stream);
    expect(await readRest(first.reader)).toBe('');
    expect((await old.closed).code).toBe(CloseCode.REPLACED);
    // Once the old one is gone, the fresh one is the client's one agent, and it serves.
    const second = await running(relay, key, fresh);
    fresh.end(second.open.stream);
    expect(await readRest(second.reader)).toBe('');
    expect(relay.hub.list()).toHaveLength(1);
  });

  it('closes an idle old session at once', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const old = await connectRawAgent(relay.url, token, INSTANCE);
    await connectRawAgent(relay.url, token, INSTANCE);
    expect((await old.closed).code).toBe(CloseCode.REPLACED);
    expect(relay.hub.sessions.size).toBe(1);
  });

  it('a half-open old session (no pongs) is still cleared by the heartbeat, its stream failed', async () => {
    const relay = await startTestRelay({ heartbeatMs: 40 });
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const old = await connectRawAgent(relay.url, token, { ...INSTANCE, autoPong: false });
    const first = await running(relay, key, old);
    await connectRawAgent(relay.url, token, INSTANCE);
    const closed = await old.closed;
    expect([CloseCode.HEARTBEAT, 1006]).toContain(closed.code);
    // The consumer's stream ends as a failure, not a clean, empty success.
    await expect(readRest(first.reader)).resolves.toMatch(/error/);
    expect(relay.hub.sessions.size).toBe(1);
  });
});
