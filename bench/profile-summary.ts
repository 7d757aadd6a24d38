/**
 * Summarises `.cpuprofile` files (from `npm run bench -- --profile`): share of busy time by area
 * (a package, node's internals, ours, GC, native) and by phase (bench/phases.ts), and self time
 * per function, top N.
 *   tsx bench/profile-summary.ts <file.cpuprofile | folder> [top=25]
 * Given a folder, summarises the main-thread profile of each process under it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PHASES, type Phase, phaseTotals } from './phases.js';
import { sourceResolver } from './profile-sources.js';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

function areaOf({ url, functionName }: Node['callFrame']): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node:internal';
  // Our sources (run through tsx) or the bundles of them (bench/out/dist/relay.js, bridge-agent.js).
  if (url.includes('/src/') || /\/(relay|bridge-agent)\.js$/.test(url)) return 'ours';
  return functionName.startsWith('(') ? functionName : 'native';
}

/** A package-relative or repository-relative path for a profile's script URL. */
const shortUrl = (url: string) =>
  url
    .replace(/^.*node_modules\//, '')
    .replace(/^file:\/\/.*?\/(relay|bridge-agent|shared)\/src\//, '$1/')
    .replace(/^file:\/\/.*\/out\/dist\//, 'dist/');

/** Time under each of our functions (relay/, bridge-agent/, shared/ sources), callees included. */
function inclusive(profile: Profile, byId: Map<number, Node>): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (areaOf(frame) !== 'ours') continue;
      const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      totals.set(name, (totals.get(name) ?? 0) + dt);
    }
  });
  return totals;
}

/** Lines describing one profile: busy time, share by area, top self-time functions. */
export function summarise(file: string, top = 25): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + dt);
  });
  const busy = total - (byArea.get('(idle)') ?? 0);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const lines = [`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; by area:`];
  for (const [area, us] of [...byArea].sort((a, b) => b[1] - a[1])) {
    if (area !== '(idle)' && us / busy >= 0.005) lines.push(`  ${pct(us)}  ${area}`);
  }
  lines.push('by phase (bench/phases.ts):');
  const phases = phaseTotals(profile, sourceResolver());
  for (const [phase, t] of Object.entries(phases.byPhase).sort((a, b) => b[1] - a[1])) {
    if (t / phases.busyUs >= 0.005) lines.push(`  ${pct(t)}  ${PHASES[phase as Phase]}`);
  }
  lines.push('self time by function (share of busy):');
  const ranked = [...self].filter(([name]) => !name.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
  for (const [name, us] of ranked.slice(0, top)) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('total time (self + callees) of our functions (share of busy):');
  const ours = [...inclusive(profile, byId)].sort((a, b) => b[1] - a[1]);
  for (const [name, us] of ours.slice(0, top)) lines.push(`  ${pct(us)}  ${name}`);
  return lines;
}

/** The main-thread profile of each process under `dir` (the largest file in each folder). */
export function profilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    const entries = readdirSync(at, { withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && e.name.endsWith('.cpuprofile'))
      .map((e) => join(at, e.name));
    if (files.length) found.push(files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!);
    for (const e of entries) if (e.isDirectory()) walk(join(at, e.name));
  };
  walk(dir);
  return found.sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [target, topArg] = process.argv.slice(2);
  if (!target) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile | folder> [top]');
    process.exit(2);
  }
  const files = statSync(target).isDirectory() ? profilesUnder(target) : [target];
  for (const file of files) {
    console.log(`\n# ${relative(process.cwd(), file)}`);
    for (const line of summarise(file, Number(topArg ?? 25))) console.log(line);
  }
}
