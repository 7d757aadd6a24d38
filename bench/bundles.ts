/**
 * Builds the relay and agent bundles the way `npm run build` does (esbuild, ESM, Node 20, third-
 * party packages external), into bench/out/dist/, so the bench runs what the Docker images run:
 * plain `node`, no tsx transform at load and no helpers it adds at run time.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLES, externalPackages } from '../scripts/build.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** Bundles `relay/src/cli.ts` and `bridge-agent/src/cli.ts` into `outdir`; returns their paths. */
export async function buildBundles(outdir: string): Promise<{ relay: string; agent: string }> {
  const external = externalPackages().flatMap((name) => [name, `${name}/*`]);
  for (const [entry, file] of Object.entries(BUNDLES)) {
    await build({
      absWorkingDir: ROOT,
      entryPoints: [entry],
      outfile: join(outdir, file),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      external,
      logLevel: 'warning',
    });
  }
  return {
    relay: join(outdir, BUNDLES['relay/src/cli.ts']),
    agent: join(outdir, BUNDLES['bridge-agent/src/cli.ts']),
  };
}
