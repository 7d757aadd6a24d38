/**
 * A signed agent release, as `npm run release:sign` writes it into a folder: `arena-agent.mjs` and
 * `arena-agent.release.json` (shared/src/release.ts). The relay never holds the release key: it
 * serves these bytes and passes the signature on; the agent checks it. Read once at start
 * (`AGENT_RELEASE_DIR`); a manifest that does not describe the file beside it is an error, not a
 * release.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RELEASE_FILE, releaseManifest } from '@arena-relay/shared';
import { AGENT_BUNDLE_NAME, type AgentBundle, bundleOf } from './agent-bundle.js';

/** Reads and checks the release in `dir`; throws a message naming what is wrong. */
export async function loadAgentRelease(dir: string): Promise<AgentBundle> {
  const manifestPath = join(dir, RELEASE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${manifestPath}: ${(error as Error).message}`);
  }
  const parsed = releaseManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${manifestPath}: ${issue?.path.join('.') || 'manifest'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  const manifest = parsed.data;
  const code = await readFile(join(dir, AGENT_BUNDLE_NAME));
  const sha256 = createHash('sha256').update(code).digest('hex');
  if (code.byteLength !== manifest.bytes || sha256 !== manifest.sha256) {
    throw new Error(
      `${join(dir, AGENT_BUNDLE_NAME)} is not the bundle ${RELEASE_FILE} signs (size or SHA-256)`,
    );
  }
  const { key, signature, keyChain } = manifest;
  return bundleOf({
    code,
    version: manifest.version,
    release: { key, signature, ...(keyChain ? { keyChain } : {}) },
  });
}
