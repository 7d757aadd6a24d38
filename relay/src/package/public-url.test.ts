import { describe, expect, it } from 'vitest';
import { publicUrl } from './public-url.js';

const base = { publicUrl: undefined, trustProxy: false, tls: false };

describe('publicUrl', () => {
  it('prefers PUBLIC_URL, without its trailing slash', () => {
    expect(publicUrl({ ...base, publicUrl: 'https://r.example/x/', headers: { host: 'other:1' } })).toBe(
      'https://r.example/x',
    );
  });

  it('uses the Host header and the relay’s own scheme', () => {
    expect(publicUrl({ ...base, headers: { host: 'relay.lan:8787' } })).toBe('http://relay.lan:8787');
    expect(publicUrl({ ...base, tls: true, headers: { host: '[::1]:8443' } })).toBe('https://[::1]:8443');
  });

  it('believes X-Forwarded-Proto/Host only with TRUST_PROXY, first value only', () => {
    const headers = {
      host: 'internal:8787',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'relay.example.com, proxy2',
    };
    expect(publicUrl({ ...base, headers })).toBe('http://internal:8787');
    expect(publicUrl({ ...base, trustProxy: true, headers })).toBe('https://relay.example.com');
    expect(
      publicUrl({ ...base, trustProxy: true, headers: { host: 'h', 'x-forwarded-proto': 'gopher' } }),
    ).toBe('http://h');
  });

  it('refuses a host that is not a plain host[:port]', () => {
    expect(publicUrl({ ...base, headers: { host: 'evil.example/"\n' } })).toBeUndefined();
    expect(publicUrl({ ...base, headers: {} })).toBeUndefined();
  });
});
