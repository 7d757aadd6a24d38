/**
 * `npm run bench`: the performance suite. Every scenario measures its baselines (direct to the
 * stub bridge, nginx and `ssh -R` when installed) in the same run as relay + agent, prints the
 * ratios, and checks the targets of issues 12 and 24 (bench/report.ts). After the measured rounds, the
 * throughput and slow-streams scenarios run instrumented windows on relay + agent alone: bytes
 * allocated per relayed chunk, and CPU by phase (bench/phases.ts) from a profile over the inspector.
 *   --rounds <n>       measurements per figure; medians reported (default 5; heavy scenarios ≤ 3)
 *   --duration <s>     seconds per throughput measurement (default 4)
 *   --quick            short smoke run at reduced scale (1 round, 1 s, 200 streams, 1 000 agents)
 *   --load-streams <n> streams open at once in lmarena-load (default 500; --quick 200)
 *   --load-seconds <s> how long each of them lasts (default 20; --quick 5)
 *   --only <a,b>       run only these scenarios (see --help)
 *   --profile          CPU profiles of relays and agents to bench/out/profiles/, summarised at the end
 *   --sources          run relay and agents from their TypeScript sources (tsx) instead of bundles
 *   --write-doc        regenerate docs/performance.md from this run
 *   --doc-only         regenerate docs/performance.md from the last run (bench/out/last-run.json)
 * Every run leaves its figures in bench/out/last-run.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findBinary, versionOf } from './baselines/tools.js';
import { buildBundles } from './bundles.js';
import { type DocMeta, writeDoc } from './doc.js';
import { profiling, programs } from './processes.js';
import { profilesUnder, summarise } from './profile-summary.js';
import { checkLine, renderText, type Section, TARGETS, type TargetId } from './report.js';
import type { Context, Scenario } from './scenario.js';
import { churn } from './scenarios/churn.js';
import { cluster } from './scenarios/cluster.js';
import { idleAgents } from './scenarios/idle-agents.js';
import { lmarenaLoad } from './scenarios/lmarena-load.js';
import { longStream } from './scenarios/long-stream.js';
import { slowStreams } from './scenarios/slow-streams.js';
import { throughput } from './scenarios/throughput.js';

const SCENARIOS: Scenario[] = [throughput, longStream, slowStreams, lmarenaLoad, idleAgents, churn, cluster];

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'load-streams': { type: 'string' },
    'load-seconds': { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    sources: { type: 'boolean', default: false },
    'write-doc': { type: 'boolean', default: false },
    'doc-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    'npm run bench -- [--rounds N] [--duration S] [--quick] [--load-streams N] [--load-seconds S] [--only a,b] [--profile] [--sources] [--write-doc | --doc-only]\n',
  );
  for (const s of SCENARIOS) console.log(`  ${s.id.padEnd(14)} ${s.about}`);
  process.exit(0);
}

const LAST_RUN = new URL('out/last-run.json', import.meta.url);
if (values['doc-only']) {
  const last = JSON.parse(readFileSync(LAST_RUN, 'utf8')) as { meta: DocMeta; sections: Section[] };
  console.log(`wrote ${writeDoc(last.meta, last.sections)} from the run of ${last.meta.date}`);
  process.exit(0);
}

const ctx: Context = {
  rounds: Number(values.rounds ?? (values.quick ? 1 : 5)),
  durationMs: 1000 * Number(values.duration ?? (values.quick ? 1 : 4)),
  quick: values.quick,
  ...(values['load-streams'] === undefined ? {} : { loadStreams: Number(values['load-streams']) }),
  ...(values['load-seconds'] === undefined ? {} : { loadSeconds: Number(values['load-seconds']) }),
};
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
const badLoad =
  (ctx.loadStreams !== undefined && !(Number.isSafeInteger(ctx.loadStreams) && ctx.loadStreams >= 1)) ||
  (ctx.loadSeconds !== undefined && !(ctx.loadSeconds >= 1));
if (unknown.length || !(ctx.rounds >= 1) || !(ctx.durationMs > 0) || badLoad) {
  console.error(
    unknown.length
      ? `unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`
      : '--rounds, --duration and --load-seconds (≥ 1) must be positive numbers, --load-streams a positive integer',
  );
  process.exit(2);
}
const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
const stamp = new Date().toISOString();
if (values.profile)
  profiling.dir = join(new URL('out/profiles', import.meta.url).pathname, stamp.replace(/[:.]/g, '-'));

/** Which baselines this machine can run, as printed notices. */
function baselineNotices(): string[] {
  const nginx = findBinary('nginx');
  const sshd = findBinary('sshd');
  return [
    nginx
      ? `baseline nginx: ${versionOf(nginx, ['-v'])}`
      : 'skipped: nginx baseline — nginx is not installed (apt-get install nginx)',
    sshd && findBinary('ssh')
      ? `baseline ssh -R: ${versionOf(findBinary('ssh')!, ['-V'])}`
      : 'skipped: ssh -R baseline — sshd is not installed (apt-get install openssh-server)',
  ];
}

async function main(): Promise<number> {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, node ${process.version}`;
  const baselines = baselineNotices();
  if (!values.sources)
    Object.assign(programs, await buildBundles(new URL('out/dist', import.meta.url).pathname));
  console.log(`arena-relay bench — ${stamp} — ${machine} — load average ${loadavg()[0]!.toFixed(2)}`);
  console.log(
    'machine: a noisy shared 2-core box; compare ratios within one run, not absolute figures across runs',
  );
  if (ctx.quick)
    console.log('--quick: reduced scale; figures are a smoke test, not comparable with the targets');
  if (values.profile)
    console.log('--profile: relay and agents run with --cpu-prof; their figures are slowed by it');
  for (const line of baselines) console.log(line);
  const sections: Section[] = [];
  let failures = 0;
  for (const scenario of selected) {
    const started = performance.now();
    try {
      const section = await scenario.run(ctx);
      sections.push(section);
      console.log(renderText(section));
    } catch (error) {
      failures++;
      console.log(`\n== ${scenario.id}: FAILED — ${(error as Error).stack ?? String(error)}`);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`(${scenario.id}: ${seconds} s; load average now ${loadavg()[0]!.toFixed(2)})`);
  }
  const checks = sections.flatMap((s) => s.checks);
  console.log('\n== Targets');
  for (const id of Object.keys(TARGETS) as TargetId[]) {
    const check = checks.find((c) => c.target === id);
    console.log(check ? checkLine(check) : `----  ${TARGETS[id]}: not run`);
  }
  if (profiling.dir) {
    for (const file of profilesUnder(profiling.dir)) {
      console.log(`\n# profile ${file.slice(profiling.dir.length + 1)}`);
      for (const line of summarise(file, 15)) console.log(line);
    }
  }
  const args = process.argv.slice(2).join(' ');
  const meta: DocMeta = { date: stamp, command: `npm run bench -- ${args}`.trim(), machine, baselines };
  mkdirSync(new URL('.', LAST_RUN), { recursive: true });
  writeFileSync(LAST_RUN, JSON.stringify({ meta, sections }, null, 1));
  if (values['write-doc']) console.log(`\nwrote ${writeDoc(meta, sections)}`);
  return failures;
}

main().then(
  (failures) => process.exit(failures ? 1 : 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
