/**
 * `npm start` / `npm run agent`: runs what ships, in this one process. Builds `dist/` when stale
 * (scripts/launch.ts, loaded through tsx's scoped import, which compiles that import only), then
 * imports the bundle here, as `node dist/relay.js` would run it: same arguments and environment,
 * its own SIGINT/SIGTERM handlers (Ctrl-C once drains, twice stops), its own exit code. Whatever a
 * supervisor signals or kills is the program itself: a SIGKILL to the group `npm start` made, or
 * an OOM kill, leaves nothing holding the port and the data files (a child of ours did).
 *   node scripts/launch.mjs [--out-dir DIR] <relay|agent> [program arguments…]
 * LAUNCH_OUT_DIR stands for --out-dir (the suite runs the real `npm start` on a build of its own).
 * Plain JavaScript on purpose: the program must not run under tsx.
 */
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const { ensureBuilt, launchPlan, USAGE } = await tsImport('./launch.ts', import.meta.url);
const plan = launchPlan(process.argv.slice(2), process.env.LAUNCH_OUT_DIR);
if (!plan) {
  console.error(USAGE);
  process.exit(2);
}
if (await ensureBuilt(plan.outdir)) console.error(`built ${plan.outdir}`);
// esbuild's service (tsx compiled launch.ts with it, buildAll may have built with it) is a child
// process that would live as long as the program: stop it first.
await (await import('esbuild')).stop();

if (process.env.npm_lifecycle_event) {
  // npm runs us under `sh -c`, which dies of the SIGTERM npm passes on to it without passing it
  // further. The moment that parent is gone, stop as if signalled: drain, then exit.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 200);
  watch.unref();
}

process.argv = [process.execPath, plan.bundle, ...plan.args];
process.setSourceMapsEnabled(true);
await import(pathToFileURL(plan.bundle).href);
