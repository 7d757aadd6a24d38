import { describe, expect, it } from 'vitest';
import { transportNotices } from './transport-notice.js';

const codes = (url: string) => transportNotices(url).map((notice) => notice.code);

describe('transportNotices', () => {
  it('flags plain http and loopback addresses, each on its own', () => {
    expect(codes('http://localhost:8787')).toEqual(['plain_http', 'loopback']);
    expect(codes('http://127.0.0.1:8787/relay')).toEqual(['plain_http', 'loopback']);
    expect(codes('http://[::1]:8787')).toEqual(['plain_http', 'loopback']);
    expect(codes('http://relay.example.org')).toEqual(['plain_http']);
    expect(codes('https://localhost')).toEqual(['loopback']);
    expect(codes('https://relay.example.org/prefix')).toEqual([]);
    expect(codes('https://127.0.0.1.example.org')).toEqual([]);
  });

  it('writes ASCII sentences (they travel in a header), and flags nothing it cannot parse', () => {
    for (const notice of transportNotices('http://localhost')) expect(notice.text).toMatch(/^[\x20-\x7e]+$/);
    expect(transportNotices('http://a b')).toEqual([]);
  });
});
