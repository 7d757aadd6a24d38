/**
 * Reconnect churn: 10 000 agents that connect, say hello, get welcomed and leave, 50 at a time.
 * The relay's RSS after (once they are all gone) against before shows what it keeps of each.
 */
import { liveAgents } from '../processes.js';
import type { Scenario } from '../scenario.js';
import { fmt, signed, until } from '../stats.js';
import { closeAgent, connectAgent, inParallel } from '../swarm.js';
import { gcNote, mib, readMemory, startCrowdRelay } from './relay-memory.js';

const PARALLEL = 50;
const WARM_UP = 500;

export const churn: Scenario = {
  id: 'churn',
  about: '10 000 connect/disconnect cycles: relay RSS after vs before',
  async run(ctx) {
    const cycles = ctx.quick ? 1_000 : 10_000;
    const relay = await startCrowdRelay('churn');
    try {
      const cycle = async () => closeAgent(await connectAgent(relay.url, relay.token));
      const drained = () => until(async () => (await liveAgents(relay.url)) === 0, 30_000);
      await inParallel(WARM_UP, PARALLEL, performance.now() + 60_000, cycle);
      await drained();
      const before = await readMemory(relay);
      const started = performance.now();
      const outcome = await inParallel(cycles, PARALLEL, performance.now() + 300_000, cycle);
      const seconds = (performance.now() - started) / 1000;
      await drained();
      const after = await readMemory(relay);
      const change = (after.rssKiB - before.rssKiB) / before.rssKiB;
      return {
        id: 'churn',
        title: `Reconnect churn (${cycles.toLocaleString('en')} connect/hello/close cycles)`,
        blocks: [
          `${outcome.ok} cycles (failed ${outcome.failed}${outcome.firstError ? `: ${outcome.firstError}` : ''}) in ${fmt(seconds, 1)} s, ${PARALLEL} at a time: ${fmt(outcome.ok / seconds, 0)} cycles/s; after a ${WARM_UP}-cycle warm-up`,
          {
            head: ['relay', 'RSS MiB', 'JS heap used MiB'],
            rows: [
              ['before', mib(before.rssKiB), mib(before.heapUsedKiB)],
              ['after', mib(after.rssKiB), mib(after.heapUsedKiB)],
            ],
          },
          gcNote([before, after]),
        ],
        checks: [
          {
            target: 'churnRss',
            value: `${signed(100 * change, 1)} % (${mib(before.rssKiB)} → ${mib(after.rssKiB)} MiB)`,
            pass: outcome.ok === cycles && change <= 0.1,
          },
        ],
      };
    } finally {
      await relay.stop();
    }
  },
};
