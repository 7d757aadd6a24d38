/**
 * Ed25519 over the release format of shared/src/release.ts, with `node:crypto` only: making a
 * release key (the operator, `npm run release:keygen`), signing a release or a key announcement
 * (`npm run release:sign`), and what the agent checks: which key is current after a chain of
 * announcements, and whether a release is signed by it. Verification never throws.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { keyAnnouncement, releaseStatement } from '@arena-relay/shared';

type Release = { version: string; sha256: string; bytes: number };
type Announcement = { key: string; signature: string };

/** A fresh key pair: the private half as PKCS#8 PEM, the public half as base64url raw bytes. */
export function generateReleaseKey(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawPublicKey(publicKey),
  };
}

/** The public half (base64url raw) of a PEM private key; throws when it is not an Ed25519 key. */
export function publicKeyOf(privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the release key must be an Ed25519 key');
  return rawPublicKey(createPublicKey(key));
}

function rawPublicKey(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (!x) throw new Error('not an Ed25519 public key');
  return x;
}

/** base64 Ed25519 signature of `statement` by `privateKeyPem`. */
export function signStatement(privateKeyPem: string, statement: string): string {
  return sign(null, Buffer.from(statement, 'utf8'), createPrivateKey(privateKeyPem)).toString('base64');
}

export const signRelease = (privateKeyPem: string, release: Release) =>
  signStatement(privateKeyPem, releaseStatement(release));

/** An announcement that `nextKey` follows the key of `privateKeyPem`. */
export const announceKey = (privateKeyPem: string, nextKey: string): Announcement => ({
  key: nextKey,
  signature: signStatement(privateKeyPem, keyAnnouncement(nextKey)),
});

/** True when `signature` is `publicKey`'s over `statement`; false for anything malformed. */
export function verifyStatement(publicKey: string, statement: string, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(statement, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The release key current after `chain`, starting from the trusted `key`: each announcement
 * signed by the key current before it moves on; one signed by any other key is skipped (it
 * proves nothing), so a relay can only add steps the key holder made.
 */
export function currentKey(key: string, chain: readonly Announcement[] = []): string {
  let current = key;
  for (const step of chain) {
    if (step.key !== current && verifyStatement(current, keyAnnouncement(step.key), step.signature)) {
      current = step.key;
    }
  }
  return current;
}

export const verifyRelease = (publicKey: string, release: Release, signature: string) =>
  verifyStatement(publicKey, releaseStatement(release), signature);
