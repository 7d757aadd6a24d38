/**
 * Assembles `arena-agent-{id}.zip`: one folder holding the bundled agent and the files of
 * package-files.ts, with Unix modes (the script executable, the config with the token private).
 * The bundle goes in already deflated (see AgentBundle), so a download costs a few small deflates.
 */
import { strToU8, Zip, ZipDeflate, type ZipInputFile } from 'fflate';
import { AGENT_BUNDLE_NAME, type AgentBundle } from './agent-bundle.js';
import {
  composeFile,
  configJsonc,
  dockerfile,
  envExample,
  type PackageInput,
  readme,
  setupPowerShell,
  setupScript,
} from './package-files.js';

/** Zip "made by Unix" (so that unzip applies the modes), and the modes. */
const UNIX = 3;
const MODE = { file: 0o100644, secret: 0o100600, exec: 0o100755 } as const;
/** Compression method 8 of APPNOTE 4.4.5. */
const DEFLATE = 8;

export const packageFileName = (clientId: string) => `arena-agent-${clientId}.zip`;
/** The folder every entry of the zip sits in. */
export const packageFolder = (clientId: string) => `arena-agent-${clientId}`;

/** Builds the zip; `bundle` comes from `agentBundle()`. */
export function buildClientPackage(
  input: Omit<PackageInput, 'agentVersion' | 'releaseKey'>,
  bundle: AgentBundle,
): Uint8Array {
  const full: PackageInput = { ...input, agentVersion: bundle.version, releaseKey: bundle.release?.key };
  const folder = packageFolder(input.client.id);
  const mtime = input.generatedAt;
  const chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  let done = false;
  // With synchronous entries (ZipDeflate, the pre-deflated bundle) every callback runs inside add/push/end.
  const zip = new Zip((error, chunk, final) => {
    if (error) failure = error;
    else chunks.push(chunk);
    if (final) done = true;
  });

  const bundleEntry: ZipInputFile = {
    filename: `${folder}/${AGENT_BUNDLE_NAME}`,
    size: bundle.code.byteLength,
    crc: bundle.crc32,
    compression: DEFLATE,
    mtime,
    os: UNIX,
    attrs: MODE.exec * 0x10000,
  };
  zip.add(bundleEntry);
  bundleEntry.ondata!(null, bundle.deflated, true);

  const text: Array<[name: string, content: string, mode: number]> = [
    ['config.jsonc', configJsonc(full), MODE.secret],
    ['setup_client.sh', setupScript(full), MODE.exec],
    ['setup_client.ps1', setupPowerShell(full), MODE.file],
    ['Dockerfile', dockerfile(), MODE.file],
    ['docker-compose.yml', composeFile(full), MODE.file],
    ['.env.example', envExample(), MODE.file],
    ['README.md', readme(full), MODE.file],
  ];
  for (const [name, content, mode] of text) {
    const entry = new ZipDeflate(`${folder}/${name}`, { level: 6 });
    Object.assign(entry, { mtime, os: UNIX, attrs: mode * 0x10000 });
    zip.add(entry);
    entry.push(strToU8(content), true);
  }
  zip.end();
  if (failure) throw failure;
  if (!done) throw new Error('zip did not finish synchronously');
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
