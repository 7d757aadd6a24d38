/**
 * `npm start` / `npm run agent`: runs what ships. Builds `dist/` with `buildAll()` of
 * scripts/build.ts when a bundle is missing or older than a file it is built from, then runs the
 * bundle with plain `node` (as the Docker images do): same arguments, same environment, SIGINT,
 * SIGTERM and SIGHUP passed on, its exit code (or signal) passed back.
 *   tsx scripts/launch.ts [--out-dir DIR] <relay|agent> [program arguments…]
 * `npm run dev` / `npm run dev:agent` run the sources through tsx instead.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs a bundle until it exits, then exits the same way. The child gets a process group of its
 * own, so a terminal's Ctrl-C reaches it once, through this process, not twice (the agent takes
 * a second SIGINT as "stop now, skip the drain").
 */
function run(bundle: string, args: string[]): void {
  const child = spawn(process.execPath, ['--enable-source-maps', bundle, ...args], {
    cwd: process.cwd(),
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  child.once('error', (error) => {
    console.error(`cannot run ${bundle}: ${error.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let argv = process.argv.slice(2);
  let outdir = join(ROOT, 'dist');
  if (argv[0] === '--out-dir' && argv[1]) {
    outdir = resolve(argv[1]);
    argv = argv.slice(2);
  }
  const [name, ...args] = argv;
  if (!name || !(name in PROGRAMS)) {
    console.error(`usage: launch.ts [--out-dir DIR] <${Object.keys(PROGRAMS).join('|')}> [arguments…]`);
    process.exit(2);
  }
  if (await ensureBuilt(outdir)) console.error(`built ${outdir}`);
  run(join(outdir, PROGRAMS[name as Program]), args);
}
