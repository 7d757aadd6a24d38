/**
 * The Router as a state machine, without sockets: fake agents and hub, vitest's fake timers for
 * the queue's wait. What it picks, what it refuses with which error, and how the queue behaves.
 */
import { describe, expect, it, vi } from 'vitest';
import { agent, type FakeAgent, FakeHub } from '../test-support/fake-agents.js';
import { fakeTimersInEachTest } from '../test-support/fake-timers.js';
import { refusal } from '../test-support/refusal.js';
import type { AgentHub } from '../tunnel/agent-hub.js';
import { createBalancer } from './balancer.js';
import { Cooldown } from './cooldown.js';
import { type ClientGate, type RouteRequest, Router } from './router.js';
import { type Pin, StickyTable, sessionPin } from './sticky.js';

function setup(options: { remote?: FakeAgent[]; maxQueue?: number; maxWaitMs?: number } = {}) {
  const hub = new FakeHub();
  const cooldown = new Cooldown({ threshold: 1, baseMs: 1000 });
  const sticky = new StickyTable();
  const affinity = new StickyTable();
  const router = new Router(hub as unknown as AgentHub, createBalancer('least_load'), {
    cooldown,
    sticky,
    affinity,
    remoteAgents: () => options.remote ?? [],
    queue: { maxQueue: options.maxQueue ?? 10, maxWaitMs: options.maxWaitMs ?? 30_000 },
  });
  return { hub, router, cooldown, sticky, affinity };
}

/** Agents a and b with room for `max` each, on the hub; b already carries `bLoad`. */
function twoAgents(hub: FakeHub, max: number, bLoad = 0) {
  const a = agent('a', { max });
  const b = agent('b', { max });
  b.inFlight = bLoad;
  hub.agents = [a, b];
  return { a, b };
}

const controller = () => new AbortController();
function request(over: Partial<RouteRequest> = {}, abort = controller()): RouteRequest {
  return { models: ['gpt-5'], tried: new Set(), signal: () => abort.signal, ...over };
}

fakeTimersInEachTest();

describe('Router.acquire', () => {
  it('no agent at all: no_agents_available with a retry-after', async () => {
    const { router } = setup();
    const error = await refusal(router.acquire(request()));
    expect(error.code).toBe('no_agents_available');
    expect(error.headers()['retry-after']).toBe('5');
  });

  it('a model nobody advertises is model_not_found; one whose agents are all unfit is no_agents_available', async () => {
    const { hub, router, cooldown } = setup();
    const a = agent('a');
    hub.agents = [a];
    expect((await refusal(router.acquire(request({ models: ['other'] })))).code).toBe('model_not_found');
    a.ready = false;
    expect((await refusal(router.acquire(request()))).code).toBe('no_agents_available');
    a.ready = true;
    cooldown.failure(a.agentKey, 'broken');
    expect((await refusal(router.acquire(request()))).code).toBe('no_agents_available');
    expect((await refusal(router.acquire(request({ tried: new Set(['a']) })))).code).toBe(
      'no_agents_available',
    );
  });

  it('reserves a slot on the least loaded agent, and prefers a local agent to a remote one', async () => {
    const remote = agent('remote', { max: 8 });
    const { hub, router } = setup({ remote: [remote] });
    const busy = agent('busy', { max: 2 });
    busy.inFlight = 1;
    const idle = agent('idle', { max: 2 });
    hub.agents = [busy, idle];
    const route = await router.acquire(request());
    expect(route.session.id).toBe('idle');
    expect(idle.reserved).toBe(1);
    // Locals full (busy 1+0 of 2 is still open, so fill it too): only then the remote one.
    busy.inFlight = 2;
    idle.inFlight = 2;
    idle.reserved = 0;
    expect((await router.acquire(request())).session.id).toBe('remote');
  });

  it('waits in FIFO order when every agent is full, served as capacity frees up', async () => {
    const { hub, router } = setup();
    const a = agent('a');
    a.inFlight = 1;
    hub.agents = [a];
    const first = router.acquire(request({ requestId: 'first' }));
    const second = router.acquire(request({ requestId: 'second' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(router.queueDepth).toBe(2);
    a.inFlight = 0;
    hub.emit('capacity');
    const served = await first;
    expect(served.session.id).toBe('a');
    expect(router.queueDepth).toBe(1);
    a.reserved = 0;
    hub.emit('capacity');
    expect((await second).session.id).toBe('a');
    expect(router.queueDepth).toBe(0);
  });

  it('an agent whose relay is going away is waited for on its next relay, not refused', async () => {
    const moving = Object.assign(agent('old-socket'), { goingAway: true });
    moving.ready = false;
    const remote: FakeAgent[] = [moving];
    const { router } = setup({ remote });
    const waiting = router.acquire(request({ tried: new Set(['old-socket']) }));
    await vi.advanceTimersByTimeAsync(0);
    expect(router.queueDepth).toBe(1);
    // Its socket to another relay is seen: the request goes there.
    remote.push(agent('new-socket'));
    router.capacityChanged();
    expect((await waiting).session.id).toBe('new-socket');
    // Once it is gone without a successor, it is not waited for any more.
    remote.splice(0);
    remote.push(Object.assign(agent('gone'), { ready: false }));
    expect((await refusal(router.acquire(request()))).code).toBe('no_agents_available');
  });

  it('a wait past maxWaitMs is a 429 with retry-after; a full queue refuses at once', async () => {
    const { hub, router } = setup({ maxQueue: 1, maxWaitMs: 5000 });
    const a = agent('a');
    a.inFlight = 1;
    hub.agents = [a];
    const waiting = refusal(router.acquire(request()));
    await vi.advanceTimersByTimeAsync(0);
    const overflow = await refusal(router.acquire(request()));
    expect(overflow.code).toBe('rate_limit_exceeded');
    expect(overflow.message).toMatch(/queue is full/);
    await vi.advanceTimersByTimeAsync(4999);
    expect(router.queueDepth).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const timedOut = await waiting;
    expect(timedOut.code).toBe('rate_limit_exceeded');
    expect(timedOut.message).toMatch(/no capacity within 5s/);
    expect(router.queueDepth).toBe(0);
  });

  it('a request that ends while waiting (consumer gone) leaves the queue at once', async () => {
    const { hub, router } = setup();
    const a = agent('a');
    a.inFlight = 1;
    hub.agents = [a];
    const abort = controller();
    const waiting = refusal(router.acquire(request({}, abort)));
    await vi.advanceTimersByTimeAsync(0);
    abort.abort();
    expect((await waiting).code).toBe('timeout');
    expect(router.queueDepth).toBe(0);
  });

  it('a client over its own limit is passed over; when every client is, the smallest retry-after wins', async () => {
    const refused = new Map([
      ['client-a', 30],
      ['client-b', 7],
    ]);
    const gate: ClientGate = async (a) =>
      refused.has(a.clientId)
        ? { admitted: false, retryAfterSeconds: refused.get(a.clientId)! }
        : { admitted: true };
    const { hub, router } = setup();
    const a = agent('a');
    const b = agent('b');
    const c = agent('c');
    hub.agents = [a, b, c];
    expect((await router.acquire(request({ clientGate: gate }))).session.id).toBe('c');
    expect(a.reserved + b.reserved).toBe(0);
    hub.agents = [a, b];
    const error = await refusal(router.acquire(request({ clientGate: gate })));
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.headers()['retry-after']).toBe('7');
  });

  it('a pinned session keeps its agent while it is fit, and is repinned when it is not', async () => {
    const { hub, router, sticky } = setup();
    const { b } = twoAgents(hub, 4, 3); // least_load alone would pick a
    sticky.set('key-1/conv-1', b.agentKey);
    const kept = await router.acquire(request({ pin: sessionPin('key-1', 'conv-1') }));
    expect(kept).toMatchObject({ pin: 'kept' });
    expect(kept.session.id).toBe('b');
    b.ready = false;
    const moved = await router.acquire(request({ pin: sessionPin('key-1', 'conv-1') }));
    expect(moved).toMatchObject({ pin: 'repinned' });
    expect(moved.session.id).toBe('a');
    expect((await router.acquire(request({ pin: sessionPin('key-1', 'conv-2') }))).pin).toBe('new');
  });

  it("the Route reports to the router's own tables: a success keeps the pin, failures bench", async () => {
    const { hub, router } = setup();
    twoAgents(hub, 4);
    const first = await router.acquire(request({ pin: sessionPin('key-1', 'conv-1') }));
    expect(first.pin).toBe('new');
    first.succeeded();
    const again = await router.acquire(request({ pin: sessionPin('key-1', 'conv-1') }));
    expect(again).toMatchObject({ pin: 'kept', session: first.session });
    expect(again.failed({ code: 'upstream_unavailable', message: 'boom' })).toBe(1000);
    expect(router.cooldownState(first.session.agentKey)).toMatchObject({ benched: true, trips: 1 });
    const other = await router.acquire(request({ pin: sessionPin('key-1', 'conv-1') }));
    expect(other.pin).toBe('repinned');
    expect(other.session).not.toBe(first.session);
    await vi.advanceTimersByTimeAsync(1000);
    expect(router.cooldownState(first.session.agentKey)?.benched).toBe(false);
  });
});

describe('Router.acquire with candidate models', () => {
  it('the first model with a routable agent wins, and the Route says which', async () => {
    const { hub, router } = setup();
    hub.agents = [agent('old', { models: ['gpt-4'] }), agent('new', { models: ['gpt-5'] })];
    const route = await router.acquire(request({ models: ['gpt-5', 'gpt-4'] }));
    expect(route).toMatchObject({ model: 'gpt-5' });
    expect(route.session.id).toBe('new');
  });

  it('falls to the next model when the first has no agent, or none fit to serve it', async () => {
    const { hub, router } = setup();
    const fallback = agent('fallback', { models: ['gpt-4'], max: 4 });
    hub.agents = [fallback];
    const route = await router.acquire(request({ models: ['gpt-5', 'gpt-4'] }));
    expect(route).toMatchObject({ model: 'gpt-4' });
    const preferred = agent('preferred', { models: ['gpt-5'] });
    preferred.ready = false;
    hub.agents = [preferred, fallback];
    expect((await router.acquire(request({ models: ['gpt-5', 'gpt-4'] }))).model).toBe('gpt-4');
    preferred.ready = true;
    expect((await router.acquire(request({ models: ['gpt-5', 'gpt-4'] }))).model).toBe('gpt-5');
  });

  it('a first model whose agents are only busy is waited for, not skipped', async () => {
    const { hub, router } = setup();
    const preferred = agent('preferred', { models: ['gpt-5'] });
    preferred.inFlight = 1;
    hub.agents = [preferred, agent('fallback', { models: ['gpt-4'] })];
    const waiting = router.acquire(request({ models: ['gpt-5', 'gpt-4'] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(router.queueDepth).toBe(1);
    preferred.inFlight = 0;
    hub.emit('capacity');
    expect((await waiting).session.id).toBe('preferred');
  });

  it('no model served is model_not_found naming them all; served but none ready is no_agents_available', async () => {
    const { hub, router } = setup();
    const a = agent('a', { models: ['gpt-4'] });
    hub.agents = [a];
    const missing = await refusal(router.acquire(request({ models: ['gpt-5', 'o3'] })));
    expect(missing.code).toBe('model_not_found');
    expect(missing.message).toBe("None of the models 'gpt-5' or 'o3' is served by any connected bridge");
    a.ready = false;
    const unready = await refusal(router.acquire(request({ models: ['gpt-5', 'gpt-4'] })));
    expect(unready.code).toBe('no_agents_available');
    expect(unready.message).toMatch(/'gpt-5' or 'gpt-4'/);
    expect((await refusal(router.acquire(request({ models: [] })))).code).toBe('model_not_found');
  });

  it('a long list of names is cut in the error message', async () => {
    const { hub, router } = setup();
    hub.agents = [agent('a')];
    const models = Array.from({ length: 100 }, (_, i) => `модель-${i}-😀`);
    const error = await refusal(router.acquire(request({ models })));
    expect(error.code).toBe('model_not_found');
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain('…');
    expect(error.message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('Router.acquire: pins per key, conversations, prompt limits', () => {
  const conversation = (follow: boolean): Pin => ({ kind: 'conversation', key: 'key-1/abc', follow });

  it("a session pin is the key's own: the same name under another key is another session", async () => {
    const { hub, router, sticky } = setup();
    const { a, b } = twoAgents(hub, 4, 3);
    sticky.set('key-1/conv', b.agentKey);
    expect(await router.acquire(request({ pin: sessionPin('key-1', 'conv') }))).toMatchObject({
      pin: 'kept',
      session: b,
    });
    expect(await router.acquire(request({ pin: sessionPin('key-2', 'conv') }))).toMatchObject({
      pin: 'new',
      session: a,
    });
  });

  it('a conversation pin is looked up only for a later turn, preferred while its agent has room', async () => {
    const { hub, router, affinity } = setup();
    const { a, b } = twoAgents(hub, 2, 1);
    affinity.set('key-1/abc', b.agentKey);
    // A first turn is balanced as usual (least load: a), and says nothing in x-session-pin.
    const first = await router.acquire(request({ pin: conversation(false) }));
    expect(first).toMatchObject({ session: a, pin: undefined });
    first.session.release();
    const later = await router.acquire(request({ pin: conversation(true) }));
    expect(later).toMatchObject({ session: b, pin: undefined });
    // Full: not waited for, another agent serves; and a success moves the pin there.
    const other = await router.acquire(request({ pin: conversation(true) }));
    expect(other.session).toBe(a);
    other.succeeded();
    expect(affinity.get('key-1/abc')).toBe(a.agentKey);
  });

  it('an agent whose limit the prompt exceeds does not fit; none left is prompt_too_long with the counts', async () => {
    const { hub, router } = setup();
    const small = agent('small', { max: 4, promptLimitChars: 100 });
    const large = agent('large', { max: 4, promptLimitChars: 1000 });
    large.inFlight = 3;
    hub.agents = [small, large];
    expect((await router.acquire(request({ promptChars: 100 }))).session).toBe(small);
    expect((await router.acquire(request({ promptChars: 101 }))).session).toBe(large);
    const error = await refusal(router.acquire(request({ promptChars: 1001 })));
    expect(error).toMatchObject({ code: 'prompt_too_long', status: 400, param: 'messages' });
    expect(error.message).toMatch(/1001 characters; .*'gpt-5' accept at most 1000/);
    expect(() => router.checkPromptFits(['gpt-5'], 1001)).toThrow(/at most 1000/);
    expect(() => router.checkPromptFits(['gpt-5'], 1000)).not.toThrow();
    // Not the prompt's fault when no agent serves the model at all: acquire says so itself.
    expect(() => router.checkPromptFits(['other'], 10 ** 6)).not.toThrow();
    // An unready agent without a limit does not rescue it; a ready one does.
    const unlimited = agent('unlimited', { max: 4 });
    unlimited.ready = false;
    hub.agents = [small, unlimited];
    expect(() => router.checkPromptFits(['gpt-5'], 1001)).toThrow(/at most 100\b/);
    unlimited.ready = true;
    expect(() => router.checkPromptFits(['gpt-5'], 1001)).not.toThrow();
  });

  it('a flood of conversations cannot evict named sessions: they live in tables of their own', async () => {
    const hub = new FakeHub();
    const { b } = twoAgents(hub, 1000);
    const sticky = new StickyTable(2);
    const router = new Router(hub as unknown as AgentHub, createBalancer('least_load'), {
      sticky,
      affinity: new StickyTable(2),
    });
    sticky.set('key-1/named', b.agentKey);
    for (let i = 0; i < 100; i++) {
      const route = await router.acquire(
        request({ pin: { kind: 'conversation', key: `key-2/${i}`, follow: false } }),
      );
      route.succeeded();
      route.session.release();
    }
    expect(sticky.get('key-1/named')).toBe(b.agentKey);
  });
});
