/**
 * `npm run build:agent`: writes the client packages' single-file agent (`arena-agent.mjs`, the
 * same esbuild bundle the relay makes on demand) into `dist/`, beside `dist/relay.js`. A relay
 * running from that bundle has neither esbuild nor the agent's sources, and ships this file
 * instead. Running the relay from sources needs none of this.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AGENT_BUNDLE_NAME, buildAgentBundleCode } from '../relay/src/package/agent-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the agent bundle into `outdir` (default `<root>/dist`); returns its path. */
export async function writeAgentBundle(outdir = join(ROOT, 'dist')): Promise<string> {
  const { code, version } = await buildAgentBundleCode();
  mkdirSync(outdir, { recursive: true });
  const path = join(outdir, AGENT_BUNDLE_NAME);
  writeFileSync(path, code, { mode: 0o755 });
  console.log(`built ${path} (agent ${version}, ${Math.round(code.byteLength / 1024)} KiB)`);
  return path;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeAgentBundle(process.argv[2]);
}
