/**
 * The single-file bridge agent shipped in client packages: bridge-agent/src/cli.ts and every
 * dependency bundled by esbuild into one ES module that plain `node` (≥ 20) runs with no
 * node_modules beside it. Made on first use and kept in memory for the life of the process —
 * there is no committed build output. A relay that itself runs from a bundle (`dist/relay.js`,
 * without esbuild or the agent's sources) uses `arena-agent.mjs` from its own folder instead,
 * written by `npm run build:agent`.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import type { ReleaseManifest } from '@arena-relay/shared';

const deflate = promisify(deflateRaw);

/** The agent package's folder, beside the relay's in the workspace (when running from sources). */
const AGENT_DIR = fileURLToPath(new URL('../../../bridge-agent/', import.meta.url));
/** A prebuilt bundle beside the running module (when the relay runs from dist/). */
const PREBUILT = new URL('./arena-agent.mjs', import.meta.url);

export const AGENT_BUNDLE_NAME = 'arena-agent.mjs';

export type AgentBundle = {
  /** The bundle's bytes (UTF-8 JavaScript). */
  code: Uint8Array;
  /**
   * `code` deflated once (on the libuv thread pool) and its CRC-32, so that each download puts the
   * ~1 MB bundle in its zip as is instead of compressing it again on the event loop.
   */
  deflated: Uint8Array<ArrayBuffer>;
  crc32: number;
  /** Hex SHA-256 of `code`: what a self-updating agent checks the download against. */
  sha256: string;
  /** bridge-agent's package.json version. */
  version: string;
  /**
   * The operator's signature when the bundle comes from a signed release (agent-release.ts);
   * only a signed bundle is offered to self-updating agents.
   */
  release?: Pick<ReleaseManifest, 'key' | 'signature' | 'keyChain'>;
};

/**
 * Bundled CommonJS dependencies (pino, ws, undici) call `require` for Node built-ins; an ES module
 * has none, so the bundle makes one. `bufferutil` and `utf-8-validate` are optional speed-ups of
 * `ws`, loaded in a try/catch: left out, `ws` falls back to plain JavaScript.
 */
const banner = (version: string) =>
  [
    '#!/usr/bin/env node',
    `// Arena Relay bridge agent ${version}, bundled: run with \`node arena-agent.mjs --help\`.`,
    "import { createRequire as __arenaCreateRequire } from 'node:module';",
    'const require = __arenaCreateRequire(import.meta.url);',
  ].join('\n');
const VERSION_IN_BANNER = /^\/\/ Arena Relay bridge agent (\S+), bundled/m;

let cached: Promise<AgentBundle> | undefined;

/**
 * The bundle, made once per process (concurrent callers share it): the prebuilt file when there
 * is one, else an esbuild run. A failure is not cached: the next call tries again.
 */
export function agentBundle(): Promise<AgentBundle> {
  cached ??= loadOrBuild().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function loadOrBuild(): Promise<AgentBundle> {
  let prebuilt: Buffer | undefined;
  try {
    prebuilt = await readFile(PREBUILT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!prebuilt) return withDeflated(await buildAgentBundleCode());
  const version = VERSION_IN_BANNER.exec(prebuilt.toString('utf8', 0, 512))?.[1] ?? 'unknown';
  return withDeflated({ code: prebuilt, version });
}

async function withDeflated(bundle: {
  code: Uint8Array;
  version: string;
  release?: AgentBundle['release'];
}): Promise<AgentBundle> {
  // Copied out of Node's Buffer pool into an ArrayBuffer of its own.
  const deflated = new Uint8Array(await deflate(bundle.code, { level: 9 }));
  const sha256 = createHash('sha256').update(bundle.code).digest('hex');
  return { ...bundle, deflated, crc32: crc32(bundle.code), sha256 };
}

/** The bundle as AgentBundle from code already built (tests: a bundle of another version). */
export const bundleOf = withDeflated;

/**
 * Runs esbuild over the agent's sources (uncached). Minified: ~1 MB instead of ~2.5. `version`
 * overrides package.json's (the agent's AGENT_VERSION and the banner), for tests of self-update;
 * `releaseKey` is the release key the bundle pins (`npm run release:sign`).
 */
export async function buildAgentBundleCode(
  options: { version?: string; releaseKey?: string } = {},
): Promise<{ code: Uint8Array; version: string }> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(`esbuild is not installed and there is no prebuilt ${fileURLToPath(PREBUILT)}`);
  }
  const manifest = JSON.parse(await readFile(`${AGENT_DIR}package.json`, 'utf8')) as { version: string };
  const version = options.version ?? manifest.version;
  const result = await esbuild.build({
    entryPoints: [`${AGENT_DIR}src/cli.ts`],
    absWorkingDir: AGENT_DIR,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // jsonc-parser's `main` is a UMD build whose requires esbuild cannot follow; its ESM build is fine.
    mainFields: ['module', 'main'],
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: banner(version) },
    define: {
      __ARENA_AGENT_VERSION__: JSON.stringify(version),
      ...(options.releaseKey ? { __ARENA_RELEASE_KEY__: JSON.stringify(options.releaseKey) } : {}),
    },
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output');
  return { code: output.contents, version };
}
