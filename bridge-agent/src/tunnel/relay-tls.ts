/**
 * Trust for `wss://` relays: the system's roots plus an optional private CA (`--ca`), and plain
 * words for the certificate errors an owner can fix. Verification cannot be switched off: an
 * agent that accepted any certificate would hand its client token to whoever sits on the path.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** Node's verification codes that mean "no trusted issuer": a private CA fixes them. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'INVALID_CA',
]);

const EXPIRY = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const NAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/** Every other rejection of the relay's certificate by the TLS layer. */
const OTHER = new Set(['CERT_REJECTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE', 'CERT_CHAIN_TOO_LONG']);

/**
 * The `ca` list for the relay connection: Node's bundled roots plus the PEM certificates in
 * `caFile`, or undefined (Node's defaults) without one. Node's `ca` option replaces the roots,
 * hence the explicit union. Throws with the path named when the file cannot be read.
 */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  if (caFile === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`cannot read the CA file ${caFile} (ca_file / AGENT_CA_FILE / --ca): ${reason}`);
  }
  return [...rootCertificates, pem];
}

/**
 * What is wrong with the relay's certificate, in words an owner can act on, when `error` is a
 * certificate verification failure; undefined for any other connection error.
 */
export function describeCertificateError(
  error: Error,
  url: string,
  caFile: string | undefined,
): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return undefined;
  if (UNTRUSTED.has(code)) {
    return caFile === undefined
      ? `the relay's TLS certificate is not trusted (${code}): pass --ca <file> (ca_file / AGENT_CA_FILE) for a private CA`
      : `the relay's TLS certificate is not trusted (${code}), not even with the CA in ${caFile}: check that this CA issued it`;
  }
  if (NAME_MISMATCH.has(code)) {
    const host = new URL(url).hostname;
    return `the relay's TLS certificate is not valid for ${host} (${code}): use a relay address the certificate names`;
  }
  if (EXPIRY.has(code)) {
    return `the relay's TLS certificate is outside its validity period (${code}): renew it on the relay, or check this machine's clock`;
  }
  if (OTHER.has(code)) return `the relay's TLS certificate was rejected (${code}): ${error.message}`;
  return undefined;
}

/**
 * One link's TLS bookkeeping: the trusted CAs (read once) and the addresses whose certificate
 * was refused since the last welcome. A refused certificate is a configuration problem, fatal
 * like a refused token; but one relay with a bad certificate must not stop an agent that has
 * other relays to go to, so it is fatal only once every address has shown one.
 */
export class RelayTrust {
  /** The `ca` option of every dial. */
  readonly ca: string[] | undefined;
  readonly #untrusted = new Set<string>();
  readonly #addresses: number;

  constructor(
    readonly caFile: string | undefined,
    urls: readonly string[],
  ) {
    this.ca = trustedCas(caFile);
    this.#addresses = new Set(urls).size;
  }

  /** Counts a refused certificate of `url`; true once every address has shown one. */
  refused(url: string): boolean {
    this.#untrusted.add(url);
    return this.#untrusted.size >= this.#addresses;
  }

  /** A relay welcomed the agent: refusals are counted from zero again. */
  welcomed(): void {
    this.#untrusted.clear();
  }
}
