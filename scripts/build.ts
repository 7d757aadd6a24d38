/**
 * `npm run build`: everything the programs need to run from `dist/` with plain `node`, no tsx
 * and no TypeScript sources (what the Docker images run):
 * - `relay.js` and `bridge-agent.js`: esbuild bundles (ESM, Node 20, source maps). Our own
 *   workspaces (`@arena-relay/*`, published as .ts sources) are bundled in; every third-party
 *   dependency stays external and is loaded from the `node_modules` of `npm ci --omit=dev`
 *   (better-sqlite3 is native and could not be bundled anyway).
 * - `dashboard/`: the dashboard's static files, which the relay reads beside its bundle.
 * - `arena-agent.mjs`: the single-file agent of client packages (`npm run build:agent`), which a
 *   relay without esbuild or the agent's sources ships instead of building it.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { writeAgentBundle } from './build-agent-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Entry point → output file name, for each program. */
export const BUNDLES = {
  'relay/src/cli.ts': 'relay.js',
  'bridge-agent/src/cli.ts': 'bridge-agent.js',
} as const;

/** Folder of the dashboard's static files, copied to `<outdir>/dashboard/`. */
const DASHBOARD_DIR = join(ROOT, 'relay/src/dashboard');

/** Every dependency of the workspaces that is not one of them: left to node_modules at run time. */
export function externalPackages(): string[] {
  const names = new Set<string>();
  for (const workspace of ['shared', 'relay', 'bridge-agent']) {
    const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (!name.startsWith('@arena-relay/')) names.add(name);
    }
  }
  return [...names].sort();
}

/** Copies the dashboard's non-TypeScript files; returns the paths written. */
function copyDashboard(outdir: string): string[] {
  const target = join(outdir, 'dashboard');
  mkdirSync(target, { recursive: true });
  return readdirSync(DASHBOARD_DIR)
    .filter((name) => !name.endsWith('.ts'))
    .map((name) => {
      copyFileSync(join(DASHBOARD_DIR, name), join(target, name));
      return join(target, name);
    });
}

/** Bundles the programs of BUNDLES into `outdir` (ESM, Node 20, packages external); returns their paths. */
export async function buildPrograms(outdir: string): Promise<Record<keyof typeof BUNDLES, string>> {
  const external = externalPackages().flatMap((name) => [name, `${name}/*`]);
  const outputs = {} as Record<keyof typeof BUNDLES, string>;
  for (const [entry, file] of Object.entries(BUNDLES) as [keyof typeof BUNDLES, string][]) {
    outputs[entry] = join(outdir, file);
    await build({
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: outputs[entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      external,
      logLevel: 'warning',
    });
  }
  return outputs;
}

/** Builds everything into `outdir` (default `<root>/dist`); returns the paths written. */
export async function buildAll(outdir = join(ROOT, 'dist')): Promise<string[]> {
  const outputs: string[] = Object.values(await buildPrograms(outdir));
  outputs.push(...copyDashboard(outdir));
  outputs.push(await writeAgentBundle(outdir));
  return outputs;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outputs = await buildAll();
  console.log(`built ${outputs.length} files in ${join(ROOT, 'dist')}`);
}
