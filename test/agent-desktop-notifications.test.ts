/**
 * `desktop_notifications` with a real agent, relay and fake bridge: a bridge played into a
 * Cloudflare check raises exactly one notification however often the agent probes it, none while it
 * serves, and one more for the next incident. The command is recorded, not run (no desktop here).
 */
import { BRIDGE_REASON_FIXES } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import type { Spawner } from '../bridge-agent/src/notify/desktop-notifier.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

async function setup(desktopNotifications: boolean) {
  const relay = await startTestRelay();
  const { token } = await relay.createClient();
  const { key } = await relay.createKey();
  const bridge = track(await startFakeBridge());
  const commands: { program: string; args: readonly string[] }[] = [];
  const spawn: Spawner = async (program, args) => {
    commands.push({ program, args });
    return { ok: true };
  };
  const agent = await startTestAgent(
    relay.url,
    token,
    bridge.url,
    { desktopNotifications, statusPort: -1 },
    { probeRetryBaseMs: 20, probeIntervalMs: 50, notify: { platform: 'linux', spawn, minIntervalMs: 0 } },
  );
  // The readiness probe sees a Cloudflare check only on the chat route: a consumer's request shows it first.
  const chat = () =>
    fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
  return { bridge, agent, commands, chat };
}

describe('desktop notifications', () => {
  it('one notification per incident needing a person, none while probing it again and again', async () => {
    const { bridge, agent, commands, chat } = await setup(true);
    expect(commands).toEqual([]);
    bridge.scenario = 'cloudflare';
    expect((await chat()).status).toBe(503);
    await expect.poll(() => agent.status().ready_code, { timeout: 5_000 }).toBe('cloudflare_challenge');
    // Several more probes find the same check: still one notification.
    const probes = bridge.serveProbes;
    await expect.poll(() => bridge.serveProbes, { timeout: 5_000 }).toBeGreaterThanOrEqual(probes + 4);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toEqual({
      program: 'notify-send',
      args: [
        '--app-name=Arena Relay agent',
        '--urgency=critical',
        '--',
        'Arena Relay: LMArena shows a Cloudflare check',
        BRIDGE_REASON_FIXES.cloudflare_challenge,
      ],
    });
    // Served again, then the next incident: one more.
    bridge.reset();
    await expect.poll(() => agent.status().ready, { timeout: 5_000 }).toBe(true);
    bridge.scenario = 'session-expired';
    expect((await chat()).status).toBe(503);
    await expect.poll(() => commands.length, { timeout: 5_000 }).toBe(2);
    expect(commands[1]!.args).toContain('Arena Relay: the LMArena session expired');
  });

  it('off by default: the same incident raises nothing', async () => {
    const { bridge, agent, commands, chat } = await setup(false);
    bridge.scenario = 'cloudflare';
    expect((await chat()).status).toBe(503);
    await expect.poll(() => agent.status().ready_code, { timeout: 5_000 }).toBe('cloudflare_challenge');
    const probes = bridge.serveProbes;
    await expect.poll(() => bridge.serveProbes, { timeout: 5_000 }).toBeGreaterThanOrEqual(probes + 2);
    expect(commands).toEqual([]);
  });
});
