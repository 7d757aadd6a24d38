/**
 * Writes docs/performance.md from one bench run (`--write-doc`): the targets, the figures with
 * their baselines, why a missed target is missed, the machine caveat and how to reproduce.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { PHASES, type Phase } from './phases.js';
import { type Check, renderMarkdown, type Section, TARGETS, type TargetId } from './report.js';
import { fmt, signed } from './stats.js';

const DOC = new URL('../docs/performance.md', import.meta.url);

/** Figures of the run by name (see Section.facts); NaN for one the run did not measure. */
type Facts = (name: string) => number;

const us = (n: number) => `${fmt(n, 0)} µs`;
const ms = (n: number) => `${signed(n)} ms`;
const kb = (n: number) => (Number.isFinite(n) ? `${fmt(n / 1000, 1)} KB` : '–');

/** The `n` largest phases of a phase-table column, as `socket writes 92 µs, GC 40 µs…`. */
function topPhases(f: Facts, column: string, n = 4): string {
  const ranked = (Object.keys(PHASES) as Phase[])
    .map((p) => ({ p, us: f(`phase.${column}.${p}`) }))
    .filter((x) => Number.isFinite(x.us))
    .sort((a, b) => b.us - a.us)
    .slice(0, n);
  if (!ranked.length) return 'not profiled in this run';
  return ranked.map(({ p, us: t }) => `${PHASES[p].replace(/ \(.*$/, '')} ${us(t)}`).join(', ');
}

/** CPU per second of a slow-streams row, every process of it together (ms). */
const cpuInAll = (f: Facts, row: string) =>
  ['client', 'bridge', 'entry', 'exit'].reduce((n, g) => n + f(`cpu.${row}.${g}`), 0);

/** GC's share of a phase-table column, as `12 %`. */
const gcShare = (f: Facts, column: string) =>
  `${fmt((100 * f(`phase.${column}.gc`)) / f(`phase.${column}.cpu`), 0)} %`;

/**
 * Why a target is missed, written from this run's figures, printed under it while it is missed.
 * They point at the phase and allocation tables, which say where the time goes; they claim no
 * floor that those tables do not show.
 */
const WHY_MISSED: Partial<Record<TargetId, (f: Facts) => string>> = {
  ratio50: (f) =>
    [
      `relay + agent ${fmt(f('ratio.relay+agent c=50'))} × direct, ssh -R ${fmt(f('ratio.ssh -R c=50'))}.`,
      'At c=50 the box is CPU-bound (load generator, stub bridge, relay and agent share its two cores),',
      'so streams/s follows CPU per stream: relay + agent spend',
      `${us(f('cpu.relay+agent c=50.entry'))} + ${us(f('cpu.relay+agent c=50.exit'))} per stream, ssh -R`,
      `${us(f('cpu.ssh -R c=50.entry'))} + ${us(f('cpu.ssh -R c=50.exit'))}, and nginx`,
      `${us(f('cpu.nginx c=50.entry'))} for a whole HTTP proxy hop (CPU table). ssh -R has two`,
      'user-space hops too, so the difference is what these two processes do per stream, and the phase',
      `table says what: at c=50 the relay spends it on ${topPhases(f, 'relay c=50')}; the agent on`,
      `${topPhases(f, 'agent c=50')}. The issue's levers map onto its rows: the consumer hot path in`,
      'front of Hono (Hono, request handlers), a binary per-stream protocol without zod/JSON (frame',
      'encode/decode, tunnel), pre-built heads and SSE framing (exchange and consumer writer, socket',
      'writes), kept-alive bridge connections (bridge client), fewer timers (timers), less allocation',
      '(GC). No row has been measured as a floor.',
    ].join(' '),
  ttfb1: (f) =>
    [
      `At c=1 relay + agent add ${ms(f('added.relay+agent c=1'))} to the first byte, ssh -R`,
      `${ms(f('added.ssh -R c=1'))}, nginx ${ms(f('added.nginx c=1'))}. Every process sleeps between`,
      'events, so each hop pays its wake-ups and the fixed work of a stream before the first chunk:',
      `relay and agent use ${us(f('cpu.relay+agent c=1.entry'))} + ${us(f('cpu.relay+agent c=1.exit'))}`,
      `per stream at c=1 against ${us(f('cpu.relay+agent c=50.entry'))} +`,
      `${us(f('cpu.relay+agent c=50.exit'))} at c=50 (CPU table). The phase table at c=1 puts the`,
      `relay's time in ${topPhases(f, 'relay c=1')} and the agent's in ${topPhases(f, 'agent c=1')}.`,
      'The first byte waits for the per-stream phases (HTTP parse, framework, auth and limits, routing,',
      'the open frame, the bridge request), not the per-chunk ones, so those are the ones to cut. On',
      'this box the figure moves by a few tenths of a ms from run to run.',
    ].join(' '),
  slowP99: (f) =>
    [
      `At 200 streams the relay+agent row uses ${fmt(cpuInAll(f, 'relay+agent ×200'), 0)} ms of CPU a`,
      `second in all (client, bridge, both hops) of the box's ${fmt(1000 * f('cores'), 0)}, so unless`,
      'others were using the box the added p99 is delay inside the hops: relay + agent add',
      `${ms(f('added.relay+agent ×200'))}, ssh -R ${ms(f('added.ssh -R ×200'))}, nginx`,
      `${ms(f('added.nginx ×200'))}. A GC pause stops every stream of its process at once, and`,
      'a p99 needs only 1 % of the chunks delayed: in the allocation window at 200 streams the relay',
      `paused for GC ${fmt(f('gc.×200.relay.perSecond'), 1)} times a second, the longest`,
      `${fmt(f('gc.×200.relay.maxMs'), 1)} ms, the agents ${fmt(f('gc.×200.agent.perSecond'), 1)} times,`,
      `the longest ${fmt(f('gc.×200.agent.maxMs'), 1)} ms (allocation table), from`,
      `${kb(f('alloc.×200.relay'))} and ${kb(f('alloc.×200.agent'))} allocated per relayed chunk; fewer`,
      'bytes per chunk means fewer scavenges. The rest of each hop’s time per stream (phase table):',
      `relay ${topPhases(f, 'relay ×200', 3)}; agents ${topPhases(f, 'agent ×200', 3)}.`,
    ].join(' '),
  cpu50: (f) =>
    [
      `At c=50 the relay spends ${us(f('cpu.relay+agent c=50.entry'))} per stream where sshd spends`,
      `${us(f('cpu.ssh -R c=50.entry'))}, and the agent ${us(f('cpu.relay+agent c=50.exit'))} where the`,
      `ssh client spends ${us(f('cpu.ssh -R c=50.exit'))} (CPU table). The phase table (throughput`,
      `section) has the split: relay ${topPhases(f, 'relay c=50')}; agent`,
      `${topPhases(f, 'agent c=50')}. The GC row is the cost of the allocation target below.`,
    ].join(' '),
  loadP99: (f) =>
    [
      `At ${fmt(f('streams'), 0)} LMArena-paced streams relay + agents add ${ms(f('load.added.relay+agent.p99'))}`,
      `to the p99 gap between chunks (p50 ${ms(f('load.added.relay+agent.p50'))}, p99.9`,
      `${ms(f('load.added.relay+agent.p99.9'))}).`,
      f('load.boxBusiest') >= 0.9
        ? `The box was ${fmt(100 * f('load.boxBusiest'), 0)} % busy in the busiest round, so these figures include waiting for a core.`
        : '',
      'The load generator and stub bridge use',
      `${fmt(f('load.generatorMsPerSecond'), 0)} ms of CPU a second of the box's ${fmt(1000 * f('cores'), 0)}, and the`,
      `hops ${fmt(f('load.cpu.relay+agent.entry'), 1)} µs (relay) + ${fmt(f('load.cpu.relay+agent.agents'), 1)} µs (agents) per`,
      'chunk (lmarena-load CPU table): a chunk that arrives while its process is busy waits, so the',
      'p99 follows the time each hop is busy per chunk and its longest stops. The GC column says how',
      `often those stops come: the relay paused ${fmt(f('load.gc.relay+agent.entry.perSecond'), 1)} times a second, the`,
      `longest ${fmt(f('load.gc.relay+agent.entry.maxMs'), 1)} ms, the agents ${fmt(f('load.gc.relay+agent.agents.perSecond'), 1)}`,
      `times (longest ${fmt(f('load.gc.relay+agent.agents.maxMs'), 1)} ms), from ${fmt(f('load.alloc.relay+agent.entry'), 0)} B and`,
      `${fmt(f('load.alloc.relay+agent.agents'), 0)} B allocated per chunk. The next levers: fewer bytes per chunk`,
      '(the allocation tables of slow-streams say where), and one event per chunk on each hop',
      '(protocol v3 folding head/end into data frames; a raw HTTP/1.1 client to the bridge).',
    ]
      .filter(Boolean)
      .join(' '),
  loadRss: (f) =>
    [
      `The relay's RSS grows by ${fmt(f('load.rss.relay+agent.entry'), 1)} KiB per open stream (after a full GC`,
      'with every stream open, against after a full GC at start: an upper bound, as RSS keeps the room',
      `earlier peaks grew), of which ${fmt(f('load.live.relay+agent.entry'), 1)} KiB is live (V8 heap in use and`,
      `external memory); the agents ${fmt(f('load.rss.relay+agent.agents'), 1)} KiB together. A stream holds its`,
      'consumer socket and HTTP state, its exchange and its tunnel stream; the rest is heap room for',
      'the garbage of 10 000 chunks a second, which fewer bytes allocated per chunk would shrink. A heap',
      'snapshot at this load splits the live part.',
    ].join(' '),
  crossCpu: (f) =>
    [
      `Through a second relay a chunk costs ${fmt(f('load.cpu.cross-relay.hops'), 1)} µs of CPU (entry relay`,
      `${fmt(f('load.cpu.cross-relay.entry'), 1)}, agents' relay ${fmt(f('load.cpu.cross-relay.home'), 1)}, Redis`,
      `${fmt(f('load.cpu.cross-relay.redis'), 1)}, agents ${fmt(f('load.cpu.cross-relay.agents'), 1)}) against`,
      `${fmt(f('load.cpu.relay+agent.hops'), 1)} µs locally: ${fmt(f('load.crossRatio'))} ×. The agents' relay`,
      'already sends what one turn holds for a relay as one PUBLISH (cluster/outbox.ts), so at this pace',
      'a Redis round is paid per turn, not per chunk, but a turn of slow streams holds few chunks; a',
      'direct relay-to-relay socket is what would take the Redis column off.',
    ].join(' '),
  slowCpu: (f) =>
    [
      `At 200 slow streams the relay uses ${fmt(f('cpu.relay+agent ×200.entry'), 0)} ms of CPU a second where sshd`,
      `uses ${fmt(f('cpu.ssh -R ×200.entry'), 0)}, the agents ${fmt(f('cpu.relay+agent ×200.exit'), 0)} where ssh uses`,
      `${fmt(f('cpu.ssh -R ×200.exit'), 0)} (slow-streams table). Each chunk arrives alone, so each pays a`,
      'whole event on each hop: the phase table at 200 streams says where (relay',
      `${topPhases(f, 'relay ×200', 3)}; agents ${topPhases(f, 'agent ×200', 3)}).`,
    ].join(' '),
  alloc50: (f) => allocWhy(f, 'c=50'),
  allocSlow: (f) => allocWhy(f, '×200'),
};

function allocWhy(f: Facts, at: string): string {
  const where = (who: string) =>
    (Object.keys(PHASES) as Phase[])
      .map((p) => ({ p, b: f(`alloc.${at}.${who}.${p}`) }))
      .filter((x) => Number.isFinite(x.b))
      .sort((a, b) => b.b - a.b)
      .slice(0, 3)
      .map(({ p, b }) => `${PHASES[p].replace(/ \(.*$/, '')} ${fmt(b, 0)} B`)
      .join(', ') || 'not sampled';
  return [
    `Relay ${kb(f(`alloc.${at}.relay`))} and agent ${kb(f(`alloc.${at}.agent`))} per relayed chunk`,
    '(heap growth plus what GC freed over the window, so every object counts however short its',
    'life; a stream’s open and close are spread over its chunks). By the allocation sample of the',
    `same window, the relay allocates them in ${where('relay')}; the agent in ${where('agent')}`,
    '(allocation table). GC, what the allocation costs, is',
    `${gcShare(f, `relay ${at}`)} of the relay's and ${gcShare(f, `agent ${at}`)} of the agent's CPU`,
    'in the same scenario (phase table).',
  ].join(' ');
}

export type DocMeta = { date: string; command: string; machine: string; baselines: string[] };

function targetRows(checks: Check[]): string[] {
  const rows = ['| target | measured | result |', '| --- | --- | --- |'];
  for (const id of Object.keys(TARGETS) as TargetId[]) {
    const check = checks.find((c) => c.target === id);
    rows.push(
      `| ${TARGETS[id]} | ${check?.value ?? 'not run'} | ${check ? (check.pass ? 'PASS' : '**MISS**') : '–'} |`,
    );
  }
  return rows;
}

export function writeDoc(meta: DocMeta, sections: Section[]): string {
  const checks = sections.flatMap((s) => s.checks);
  const known: Record<string, number> = Object.assign({}, ...sections.map((s) => s.facts ?? {}));
  const facts: Facts = (name) => known[name] ?? Number.NaN;
  const order = Object.keys(TARGETS);
  const missed = checks
    .filter((c) => !c.pass && WHY_MISSED[c.target])
    .sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));
  const text = [
    '# Performance',
    '',
    `<!-- Generated by \`${meta.command}\`; edit bench/doc.ts, not this file. -->`,
    '',
    `Measured ${meta.date} on ${meta.machine}. Every figure below comes from one run of`,
    '`npm run bench`, baselines included: the relay is only ever compared with a baseline',
    'measured minutes apart on the same machine.',
    '',
    '> **Machine caveat.** This is a noisy, shared 2-core box: the load generator, the stub bridge,',
    '> the relay, the agent and the baselines all compete for the same two cores. Ratios within one',
    '> run are what matters; absolute figures move by tens of percent from run to run and say',
    '> nothing about a production host.',
    '',
    '## Targets',
    '',
    ...targetRows(checks),
    '',
    ...(missed.length ? ['## Why the missed targets are missed', ''] : []),
    ...missed.flatMap((c) => [`**${TARGETS[c.target]}** — ${WHY_MISSED[c.target]!(facts)}`, '']),
    '## Baselines',
    '',
    '- **direct**: the load generator talks to the stub bridge (`scripts/fake-bridge.ts`) itself.',
    '- **nginx**: a throwaway nginx (`proxy_pass`, `proxy_buffering off`, upstream keep-alive, one',
    '  worker) with a generated config in a temporary prefix, on a free loopback port.',
    '- **ssh -R**: a throwaway sshd on 127.0.0.1 (generated host key, throwaway client key,',
    '  `StrictModes no`) and `ssh -N -R <port>:127.0.0.1:<bridge port>`: the consumer enters at',
    '  the port sshd opens, the ssh client dials the bridge.',
    '- **relay+agent**: relay and agent as separate processes, bundled the way `npm run build`',
    '  bundles them and run with plain `node`, as the Docker images run them (`--sources` runs the',
    '  TypeScript through tsx instead, which costs the relay about a third more CPU per stream);',
    '  the consumer presents an API key, the agent a client token. The agent accepts at most 1 024',
    '  streams (`max_concurrency`), so the 2 000-stream scenario uses two agents. Relay and agents',
    '  run with an inspector on a loopback port, unused during the measured rounds; after them, the',
    '  throughput and slow-streams scenarios run instrumented windows on relay + agent alone: bytes',
    '  allocated per relayed chunk, and a CPU profile whose samples `bench/phases.ts` sorts into',
    '  phases of the request path (the phase tables: where the time goes, without opening a profiler).',
    '- **lmarena-load** (the load the relay exists for): a stub bridge of its own (`bench/stub-bridge.ts`,',
    '  raw sockets, every stream paced from one 5 ms tick, each event built once) and a raw-socket load',
    '  generator (`bench/paced-load.ts`), so that 10 000 chunks a second leave the box to the hops;',
    '  four agents; the cross-relay path enters a second relay (C) whose streams go over a private',
    '  `redis-server` to relay A, which holds the agents (skipped without `redis-server`).',
    '',
    ...meta.baselines.map((b) => `${b}  `),
    '',
    '## Figures',
    '',
    ...sections.map(renderMarkdown),
    '## Reproduce',
    '',
    '```sh',
    'apt-get install -y nginx openssh-server   # optional: the baselines are skipped without them',
    'npm run bench                             # full suite, a few minutes',
    'npm run bench -- --quick                  # smoke run at reduced scale',
    'npm run bench -- --only throughput,churn  # some scenarios',
    'npm run bench -- --profile                # CPU profiles of relay and agents, summarised',
    'npm run bench -- --write-doc              # regenerate this file',
    "npm run bench -- --doc-only               # same, from the last run's figures (bench/out/last-run.json)",
    'npm run bench -- --only lmarena-load --load-streams 200 --load-seconds 5   # the paced load, smaller',
    '```',
    '',
    'Options: `--rounds N` (measurements per figure, default 5; the heavy scenarios use at most 3),',
    '`--duration S` (seconds per throughput measurement, default 4), `--load-streams N` and',
    '`--load-seconds S` (streams open at once in lmarena-load and how long each lasts; default 500 and',
    '20, with `--quick` 200 and 5). The cluster scenario needs a',
    'Redis at `REDIS_BENCH_URL` (default `redis://127.0.0.1:6379`) and is skipped without one.',
    '',
  ].join('\n');
  mkdirSync(new URL('.', DOC), { recursive: true });
  writeFileSync(DOC, text);
  return DOC.pathname;
}
