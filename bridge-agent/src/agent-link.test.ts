/** The relay link: fatal refusals, reconnects, liveness, protocol errors, shutdown. */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from './agent.js';
import { type Harness, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Collects an agent's `connected` session ids and `disconnected` reasons. */
function record(agent: Agent) {
  const events = { sessions: [] as string[], disconnects: [] as string[] };
  agent.on('connected', (sessionId) => events.sessions.push(sessionId));
  agent.on('disconnected', (reason) => events.disconnects.push(reason));
  return events;
}

/** Starts the harness and waits for the agent's first session on the relay's first socket. */
async function firstSession() {
  h = await startHarness();
  const events = record(h.agent);
  const first = await h.relay.connection(1);
  await waitFor(() => events.sessions.length === 1, 'the first session');
  return { events, first };
}

describe('relay link', () => {
  it.each([
    [401, 'the relay refused the client token (401): check api_key / AGENT_TOKEN'],
    [403, 'the relay refused the client token (403)'],
    [426, 'the relay refused the protocol (426)'],
  ])('treats %i at the upgrade as fatal and does not retry', async (status, message) => {
    h = await startHarness({ relay: { refuseWith: status } });
    const [error] = (await once(h.agent, 'fatal')) as [Error];
    expect(error.message.startsWith(message)).toBe(true);
    expect(h.relay.upgrades).toBe(1);
    expect(h.agent.status()).toMatchObject({ connected: false, reconnects: 0 });
  });

  it('treats a wrong token as fatal', async () => {
    h = await startHarness({ relay: { token: 'another-token' } });
    const [error] = (await once(h.agent, 'fatal')) as [Error];
    expect(error.message).toContain('(401)');
    expect(h.relay.connections).toHaveLength(0);
  });

  it('keeps retrying other upgrade failures', async () => {
    h = await startHarness({ relay: { refuseWith: 502 } });
    let fatal = false;
    h.agent.on('fatal', () => {
      fatal = true;
    });
    await waitFor(() => h.relay.upgrades >= 3, 'three attempts');
    expect(fatal).toBe(false);
  });

  it('reconnects after the relay closes the socket, with a new hello and session', async () => {
    const { events, first } = await firstSession();
    first.ws.close(1012, 'relay restarting');
    const second = await h.relay.connection(2);
    await waitFor(() => events.sessions.length === 2, 'the second session');
    expect(second.hello?.models).toEqual(['gpt-5', 'claude-opus']);
    expect(events.sessions[0]).not.toBe(events.sessions[1]);
    expect(events.disconnects).toEqual(['closed by the relay (1012: relay restarting)']);
    expect(h.agent.status()).toMatchObject({
      connected: true,
      reconnects: 1,
      session_id: events.sessions[1],
    });
  });

  it("strips control characters from the relay's close reason before it is logged or shown", async () => {
    const { events, first } = await firstSession();
    first.ws.close(4000, 'bye\r\u001b[2K\u001b[1Aok\u001b]0;t\u0007\u202edone');
    await waitFor(() => events.disconnects.length === 1, 'the disconnect');
    expect(events.disconnects).toEqual(['closed by the relay (4000: byeokdone)']);
  });

  it('strips control characters from a protocol error that quotes what the relay sent', async () => {
    const { events, first } = await firstSession();
    // A header whose value is not a string: the parser names its key (the relay's choice) in the reason.
    const headers = { '\u001b[2K\u009bok\u202e': 1 };
    first.ws.send(
      JSON.stringify({ type: 'open', stream: 1, method: 'POST', path: '/v1/chat/completions', headers }),
    );
    await waitFor(() => events.disconnects.length === 1, 'the disconnect');
    expect(events.disconnects[0]).toMatch(/^protocol error: /);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: none of these may be shown.
    expect(events.disconnects[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('drops a silent relay after about 2.5 heartbeats and reconnects', async () => {
    h = await startHarness({ relay: { welcome: { heartbeatMs: 100 } } });
    const first = await h.relay.connection(1);
    const welcomed = Date.now();
    await waitFor(() => first.closed, 'the agent to drop the silent relay', 3_000);
    const silentFor = Date.now() - welcomed;
    expect(silentFor).toBeGreaterThanOrEqual(200);
    expect(silentFor).toBeLessThan(1_500);
    await h.relay.connection(2);
  });

  it('stays connected while the relay pings', async () => {
    h = await startHarness({ relay: { welcome: { heartbeatMs: 100 } } });
    const conn = await h.relay.connection(1);
    const pinger = setInterval(() => conn.ws.ping(), 50);
    try {
      // Twelve answered pings span 600 ms, well past the 250 ms silence limit.
      await waitFor(() => conn.pongs >= 12, 'twelve pongs');
    } finally {
      clearInterval(pinger);
    }
    expect(conn.closed).toBeUndefined();
    expect(h.relay.connections).toHaveLength(1);
    expect(h.agent.status().last_heartbeat).not.toBeNull();
  });

  it('closes with 1002 and the reason on a malformed frame, then reconnects', async () => {
    h = await startHarness();
    const first = await h.relay.connection(1);
    first.ws.send('{"type":"open","stream":0}');
    const closed = await waitFor(() => first.closed, 'the agent to close the socket');
    expect(closed.code).toBe(1002);
    expect(closed.reason).toMatch(/^invalid control frame/);
    await h.relay.connection(2);
  });

  it('reconnects when no welcome comes in time', async () => {
    h = await startHarness({ relay: { welcome: false }, agent: { welcomeTimeoutMs: 100 } });
    await h.relay.connection(1);
    await h.relay.connection(2);
    expect(h.agent.status().connected).toBe(false);
  });

  it('closes with 1001 and stops reconnecting on close()', async () => {
    h = await startHarness();
    const conn = await h.relay.connection(1);
    await waitFor(() => h.agent.status().connected, 'the session');
    await h.agent.close();
    await h.agent.close();
    const closed = await waitFor(() => conn.closed, 'the socket to close');
    expect(closed.code).toBe(1001);
    expect(h.relay.upgrades).toBe(1);
    expect(h.agent.status().connected).toBe(false);
  });
});
