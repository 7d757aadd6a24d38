/**
 * The agent release format: the exact bytes a release key signs, and the manifest that travels
 * with a signed bundle (file `arena-agent.release.json` beside `arena-agent.mjs`, and the
 * signature fields of the `update` frame). The operator's `npm run release:sign` writes it, the
 * relay only serves it, the agent verifies it; all three read these definitions, so they sign and
 * check the same bytes.
 *
 * Keys are Ed25519; a public key travels as the base64url of its 32 raw bytes (43 characters), a
 * signature as the base64 of its 64 bytes (88 characters).
 */
import { z } from 'zod';

/** base64url of a 32-byte Ed25519 public key, unpadded. */
export const releaseKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be an Ed25519 public key (base64url)');
/** base64 of a 64-byte Ed25519 signature. */
export const releaseSignature = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be an Ed25519 signature');

/**
 * One rotation step: `key` becomes the release key, announced by a signature of the key that was
 * current before it over `keyAnnouncement(key)`.
 */
export const keyAnnouncementSchema = z.strictObject({ key: releaseKey, signature: releaseSignature });
/** Rotation steps in order, oldest first (bounded: an agent further behind needs a new package). */
export const keyChain = z.array(keyAnnouncementSchema).max(8);

export const RELEASE_FILE = 'arena-agent.release.json';

/** What a signature covers: the release's version, SHA-256 and size (manifest and `update` frame alike). */
export const releaseFields = {
  version: z.string().min(1).max(64),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024),
};

/** `arena-agent.release.json`: what `npm run release:sign` writes beside the bundle. */
export const releaseManifest = z.strictObject({
  format: z.literal('arena-agent-release/1'),
  ...releaseFields,
  /** The key that signed this release (informational: the agent checks against its own pin). */
  key: releaseKey,
  signature: releaseSignature,
  keyChain: keyChain.optional(),
});
export type ReleaseManifest = z.infer<typeof releaseManifest>;

/** The bytes a release key signs for one bundle: version, SHA-256 and size, nothing else. */
export function releaseStatement(release: { version: string; sha256: string; bytes: number }): string {
  return `arena-agent-release/1\nversion ${release.version}\nsha256 ${release.sha256}\nbytes ${release.bytes}\n`;
}

/** The bytes the current release key signs to make `next` the release key after it. */
export function keyAnnouncement(next: string): string {
  return `arena-agent-release-key/1\nnext ${next}\n`;
}
