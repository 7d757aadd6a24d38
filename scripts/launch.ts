/**
 * What `npm start` / `npm run agent` (scripts/launch.mjs) need: which bundle to run with which
 * arguments, and `dist/` built with `buildAll()` of scripts/build.ts when a bundle is missing or
 * older than a file it is built from. The entry is plain JavaScript so that the program then runs
 * in that same process under plain node, as in the Docker images: no TypeScript loader, and no
 * child process that a supervisor's SIGKILL to the launcher (or its group) would leave behind.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The programs, by the name the launcher takes, as the file buildAll() writes. */
export const PROGRAMS = { relay: 'relay.js', agent: 'bridge-agent.js' } as const;
export type Program = keyof typeof PROGRAMS;

/** What buildAll() writes that a program needs at run time, relative to its out dir. */
const OUTPUTS = ['relay.js', 'bridge-agent.js', 'arena-agent.mjs', 'dashboard/index.html'];

/** Files the bundles are built from: the workspaces' sources (tests left out) and manifests. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  for (const workspace of ['shared', 'relay', 'bridge-agent']) {
    walk(join(ROOT, workspace, 'src'));
    files.push(join(ROOT, workspace, 'package.json'));
  }
  return files;
}

const mtimeMs = (path: string) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

/** Whether `outdir` lacks a bundle or holds one older than a source it is built from. */
export function isStale(outdir: string): boolean {
  const built = OUTPUTS.map((file) => mtimeMs(join(outdir, file)));
  if (built.some((ms) => ms === undefined)) return true;
  const oldest = Math.min(...(built as number[]));
  return sourceFiles().some((file) => (mtimeMs(file) ?? 0) > oldest);
}

/** Builds `outdir` when stale; true when it built. esbuild is loaded only then. */
export async function ensureBuilt(outdir: string): Promise<boolean> {
  if (!isStale(outdir)) return false;
  const { buildAll } = await import('./build.js');
  await buildAll(outdir);
  return true;
}

export const USAGE = `usage: launch.mjs [--out-dir DIR] <${Object.keys(PROGRAMS).join('|')}> [arguments…]`;

/**
 * The bundle to run and its arguments, from the launcher's arguments; undefined for a wrong
 * program name. `--out-dir DIR` first, else `outDir` (LAUNCH_OUT_DIR), else `dist/` of the checkout.
 */
export function launchPlan(
  argv: readonly string[],
  outDir?: string,
): { outdir: string; bundle: string; args: string[] } | undefined {
  let outdir = resolve(outDir ?? join(ROOT, 'dist'));
  let rest = [...argv];
  if (rest[0] === '--out-dir' && rest[1]) {
    outdir = resolve(rest[1]);
    rest = rest.slice(2);
  }
  const [name, ...args] = rest;
  if (!name || !Object.hasOwn(PROGRAMS, name)) return undefined;
  return { outdir, bundle: join(outdir, PROGRAMS[name as Program]), args };
}
