/**
 * Builds the relay and agent bundles the way `npm run build` does (esbuild, ESM, Node 20, third-
 * party packages external), into bench/out/dist/, so the bench runs what the Docker images run:
 * plain `node`, no tsx transform at load and no helpers it adds at run time.
 */
import { buildPrograms } from '../scripts/build.js';

/** Bundles `relay/src/cli.ts` and `bridge-agent/src/cli.ts` into `outdir`; returns their paths. */
export async function buildBundles(outdir: string): Promise<{ relay: string; agent: string }> {
  const built = await buildPrograms(outdir);
  return { relay: built['relay/src/cli.ts'], agent: built['bridge-agent/src/cli.ts'] };
}
