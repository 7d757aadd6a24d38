/**
 * The operator's release tooling; the relay never sees the private key.
 * - `npm run release:keygen -- --out <file>`: makes an Ed25519 release key, writes its private half
 *   to `<file>` (mode 600, outside this repository, never over an existing file) and prints the
 *   public half.
 * - `npm run release:sign -- --key <file> [--out <dir>] [--rotate-from <old key file>]`: builds
 *   the agent bundle pinning that key and writes `arena-agent.mjs` and its signed manifest
 *   (`arena-agent.release.json`, shared/src/release.ts) into `<dir>` (default `dist/release`),
 *   which a relay serves with `AGENT_RELEASE_DIR=<dir>`. `--rotate-from` adds the announcement,
 *   signed by the old key, that makes agents pinned to it move to the new one; announcements
 *   already in `<dir>`'s manifest are kept (the last 8).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RELEASE_FILE, type ReleaseManifest, releaseManifest } from '@arena-relay/shared';
import {
  announceKey,
  generateReleaseKey,
  publicKeyOf,
  signRelease,
} from '../bridge-agent/src/update/release-signature.js';
import { AGENT_BUNDLE_NAME, buildAgentBundleCode, bundleOf } from '../relay/src/package/agent-bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** True when `path` lies inside this repository (where a private key could be committed). */
function insideRepo(path: string): boolean {
  const rel = relative(ROOT, resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Writes a new private key to `out`; returns the public key. */
export function keygen(out: string): string {
  if (insideRepo(out)) throw new Error(`${out} is inside the repository: keep the release key elsewhere`);
  if (existsSync(out)) throw new Error(`${out} exists: a release key is never overwritten`);
  const { privateKeyPem, publicKey } = generateReleaseKey();
  writeFileSync(out, privateKeyPem, { mode: 0o600, flag: 'wx' });
  return publicKey;
}

export type SignOptions = { keyFile: string; outDir: string; rotateFrom?: string; version?: string };

/** Builds, signs and writes a release into `outDir`; returns its manifest. */
export async function writeSignedRelease(options: SignOptions): Promise<ReleaseManifest> {
  const privateKeyPem = readFileSync(options.keyFile, 'utf8');
  const key = publicKeyOf(privateKeyPem);
  const manifestPath = join(options.outDir, RELEASE_FILE);
  const previous = existsSync(manifestPath)
    ? releaseManifest.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')))
    : undefined;
  const before = previous?.success ? previous.data : undefined;
  const chain = [...(before?.keyChain ?? [])];
  if (options.rotateFrom) {
    const oldPem = readFileSync(options.rotateFrom, 'utf8');
    if (before && publicKeyOf(oldPem) !== before.key) {
      throw new Error(`${manifestPath} is signed by ${before.key}: rotate from that key`);
    }
    chain.push(announceKey(oldPem, key));
  } else if (before && before.key !== key) {
    throw new Error(
      `${manifestPath} is signed by ${before.key}; to change keys, use --rotate-from <its file>`,
    );
  }
  const built = await buildAgentBundleCode({
    releaseKey: key,
    ...(options.version ? { version: options.version } : {}),
  });
  const bundle = await bundleOf(built);
  const release = { version: bundle.version, sha256: bundle.sha256, bytes: bundle.code.byteLength };
  const manifest: ReleaseManifest = {
    format: 'arena-agent-release/1',
    ...release,
    key,
    signature: signRelease(privateKeyPem, release),
    ...(chain.length > 0 ? { keyChain: chain.slice(-8) } : {}),
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, AGENT_BUNDLE_NAME), bundle.code, { mode: 0o755 });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      key: { type: 'string' },
      'rotate-from': { type: 'string' },
      version: { type: 'string' },
    },
  });
  if (command === 'keygen') {
    if (!values.out) throw new Error('usage: npm run release:keygen -- --out <file outside the repository>');
    const publicKey = keygen(values.out);
    console.log(`wrote the private release key to ${values.out} (keep it offline; the relay never needs it)`);
    console.log(`public key: ${publicKey}`);
    return;
  }
  if (command === 'sign') {
    if (!values.key)
      throw new Error('usage: npm run release:sign -- --key <file> [--out <dir>] [--rotate-from <file>]');
    const outDir = values.out ?? join(ROOT, 'dist', 'release');
    const manifest = await writeSignedRelease({
      keyFile: values.key,
      outDir,
      ...(values['rotate-from'] ? { rotateFrom: values['rotate-from'] } : {}),
      ...(values.version ? { version: values.version } : {}),
    });
    console.log(`signed agent ${manifest.version} (${manifest.bytes} bytes) with key ${manifest.key}`);
    console.log(`serve it with AGENT_RELEASE_DIR=${resolve(outDir)}`);
    return;
  }
  throw new Error('usage: tsx scripts/release.ts keygen|sign ...');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
