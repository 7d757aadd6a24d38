/**
 * 10 000 idle agents on one relay: raw WebSocket agents (handshake, hello, welcome) held open,
 * and the relay's RSS before and after; what each one costs is the difference over the count.
 */
import type { WebSocket } from 'ws';
import { cpuMs } from '../proc-stats.js';
import { liveAgents } from '../processes.js';
import type { Scenario } from '../scenario.js';
import { fmt, until } from '../stats.js';
import { closeAgent, connectAgent, inParallel } from '../swarm.js';
import { gcNote, mib, readMemory, startCrowdRelay } from './relay-memory.js';

const PARALLEL_HANDSHAKES = 100;
const WARM_UP = 200;

export const idleAgents: Scenario = {
  id: 'idle-agents',
  about: '10 000 idle agents: relay RSS per agent',
  async run(ctx) {
    const count = ctx.quick ? 1_000 : 10_000;
    const relay = await startCrowdRelay('idle-agents');
    const sockets: WebSocket[] = [];
    try {
      const connect = async () => {
        sockets.push(await connectAgent(relay.url, relay.token));
      };
      // Warm-up: code paths compiled, pools and caches in place before the first reading.
      const deadline = () => performance.now() + 120_000;
      await inParallel(WARM_UP, 50, deadline(), connect);
      await Promise.all(sockets.splice(0).map(closeAgent));
      await until(async () => (await liveAgents(relay.url)) === 0, 10_000);
      const before = await readMemory(relay);
      const cpuBefore = cpuMs(relay.pid);
      const started = performance.now();
      const outcome = await inParallel(count, PARALLEL_HANDSHAKES, deadline(), connect);
      const seconds = (performance.now() - started) / 1000;
      const relayCpu = cpuMs(relay.pid) - cpuBefore;
      await until(async () => (await liveAgents(relay.url)) >= outcome.ok, 10_000);
      const live = await liveAgents(relay.url);
      const after = await readMemory(relay);
      const perAgent = (after.rssKiB - before.rssKiB) / live;
      const heapPerAgent = (after.heapUsedKiB - before.heapUsedKiB) / live;
      const closing = performance.now();
      await Promise.all(sockets.splice(0).map(closeAgent));
      await until(async () => (await liveAgents(relay.url)) === 0, 30_000);
      const closeSeconds = (performance.now() - closing) / 1000;
      const released = await readMemory(relay);
      return {
        id: 'idle-agents',
        title: `Idle agents (${count.toLocaleString('en')} raw WebSocket agents on one relay)`,
        blocks: [
          `connected ${outcome.ok} (failed ${outcome.failed}${outcome.firstError ? `: ${outcome.firstError}` : ''}) in ${fmt(seconds, 1)} s, ${PARALLEL_HANDSHAKES} handshakes at a time: ${fmt(outcome.ok / seconds, 0)} agents/s, relay CPU ${fmt((1000 * relayCpu) / Math.max(1, outcome.ok), 0)} µs per agent`,
          {
            head: ['relay', 'RSS MiB', 'JS heap used MiB'],
            rows: [
              ['before (0 agents)', mib(before.rssKiB), mib(before.heapUsedKiB)],
              [`with ${live} agents`, mib(after.rssKiB), mib(after.heapUsedKiB)],
              [
                `after they left (${fmt(closeSeconds, 1)} s)`,
                mib(released.rssKiB),
                mib(released.heapUsedKiB),
              ],
            ],
          },
          gcNote([before, after, released]),
          `per idle agent: ${fmt(perAgent, 1)} KiB RSS, of which ${fmt(heapPerAgent, 1)} KiB JS heap`,
        ],
        checks: [
          {
            target: 'idleRss',
            value: `${fmt(perAgent, 1)} KiB (${live} agents)`,
            pass: live === count && perAgent <= 20,
          },
        ],
      };
    } finally {
      for (const ws of sockets) ws.terminate();
      await relay.stop();
    }
  },
};
