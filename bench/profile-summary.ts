/**
 * Summarises a `.cpuprofile` (from `npm run bench -- --profile`): self time per function, top N.
 *   tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
// Self time by where the code lives: a package, node's internals, native, or ours.
const byArea = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const { url, functionName } = byId.get(id)!.callFrame;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  const area = pkg
    ? pkg
    : url.startsWith('node:')
      ? 'node:internal'
      : url.includes('/src/')
        ? 'ours'
        : functionName.startsWith('(')
          ? functionName
          : 'native';
  byArea.set(area, (byArea.get(area) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const busy = total - (byArea.get('(idle)') ?? 0);
console.log(`busy: ${(busy / 1000).toFixed(0)} ms; by area (share of busy):`);
for (const [area, us] of [...byArea.entries()].sort((a, b) => b[1] - a[1])) {
  if (area !== '(idle)') console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${area}`);
}
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms`);
for (const [name, us] of top) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
