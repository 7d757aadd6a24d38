/** Certificate errors in owner's words, and the trust list built from `--ca`. */
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeCertificateError, trustedCas } from './relay-tls.js';

function tlsError(code: string, message = 'tls says no'): Error {
  return Object.assign(new Error(message), { code });
}

const RELAY = 'wss://relay.example:8443/agent/connect';

describe('describeCertificateError', () => {
  it('points at --ca for an unknown issuer, or at the given CA when there is one', () => {
    expect(describeCertificateError(tlsError('SELF_SIGNED_CERT_IN_CHAIN'), RELAY, undefined)).toBe(
      "the relay's TLS certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN): pass --ca <file> (ca_file / AGENT_CA_FILE) for a private CA",
    );
    expect(describeCertificateError(tlsError('DEPTH_ZERO_SELF_SIGNED_CERT'), RELAY, '/etc/ca.pem')).toBe(
      "the relay's TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT), not even with the CA in /etc/ca.pem: check that this CA issued it",
    );
  });

  it('names the host for a name mismatch, and the clock for an expired certificate', () => {
    expect(describeCertificateError(tlsError('ERR_TLS_CERT_ALTNAME_INVALID'), RELAY, undefined)).toContain(
      'not valid for relay.example',
    );
    expect(describeCertificateError(tlsError('CERT_HAS_EXPIRED'), RELAY, undefined)).toBe(
      "the relay's TLS certificate is outside its validity period (CERT_HAS_EXPIRED): renew it on the relay, or check this machine's clock",
    );
    expect(describeCertificateError(tlsError('CERT_REVOKED', 'revoked'), RELAY, undefined)).toBe(
      "the relay's TLS certificate was rejected (CERT_REVOKED): revoked",
    );
  });

  it('leaves other connection errors alone', () => {
    expect(describeCertificateError(tlsError('ECONNREFUSED'), RELAY, undefined)).toBeUndefined();
    expect(describeCertificateError(tlsError('EPROTO'), RELAY, undefined)).toBeUndefined();
    expect(describeCertificateError(new Error('no code'), RELAY, undefined)).toBeUndefined();
  });
});

describe('trustedCas', () => {
  it("is Node's default without a CA file", () => {
    expect(trustedCas(undefined)).toBeUndefined();
  });

  it('adds the file to the bundled roots rather than replacing them', () => {
    // Any readable file will do: the TLS layer, not this function, parses it.
    const cas = trustedCas(fileURLToPath(import.meta.url));
    expect(cas).toHaveLength(rootCertificates.length + 1);
    expect(cas?.slice(0, -1)).toEqual([...rootCertificates]);
  });

  it('names the file it cannot read', () => {
    expect(() => trustedCas('/nope/ca.pem')).toThrow(
      'cannot read the CA file /nope/ca.pem (ca_file / AGENT_CA_FILE / --ca): ENOENT',
    );
  });
});
