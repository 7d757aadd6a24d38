import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { parseProxyUrl, proxyFor, redactProxyUrl } from './proxy-url.js';

const SECRET = 's3cret-Proxy-pw';

describe('parseProxyUrl', () => {
  it('takes http(s) and socks URLs, and reads a bare host:port as http', () => {
    expect(parseProxyUrl('http://proxy:3128')).toEqual({ url: 'http://proxy:3128/' });
    expect(parseProxyUrl('proxy.corp:8080')).toEqual({ url: 'http://proxy.corp:8080/' });
    expect(parseProxyUrl('socks5h://u:p@127.0.0.1:1080')).toEqual({ url: 'socks5h://u:p@127.0.0.1:1080' });
  });

  it('refuses other schemes, paths and garbage, never quoting the value', () => {
    for (const value of [
      `ftp://u:${SECRET}@x:21`,
      `http://u:${SECRET}@x:1/path`,
      `http://u:${SECRET}@[::1`,
    ]) {
      const result = parseProxyUrl(value);
      expect(result).toHaveProperty('problem');
      expect(JSON.stringify(result)).not.toContain(SECRET);
    }
  });
});

describe('redactProxyUrl', () => {
  it('masks user and password, keeps scheme, host and port', () => {
    expect(redactProxyUrl(new URL(`http://owner:${SECRET}@proxy:3128`))).toBe('http://***@proxy:3128');
    expect(redactProxyUrl(new URL('socks5://proxy:1080'))).toBe('socks5://proxy:1080');
  });
});

describe('proxyFor', () => {
  const env = {
    HTTPS_PROXY: 'http://https-proxy:1',
    http_proxy: 'http://http-proxy:2',
    ALL_PROXY: 'socks5://all:3',
  };

  it('picks by the relay scheme, then ALL_PROXY', () => {
    expect(proxyFor('wss://relay.example/agent/connect', undefined, env)?.source).toBe('HTTPS_PROXY');
    expect(proxyFor('ws://relay.example/agent/connect', undefined, env)?.source).toBe('http_proxy');
    expect(
      proxyFor('https://relay.example/agent/bundle', undefined, { ALL_PROXY: 'socks5://all:3' })?.shown,
    ).toBe('socks5://all:3');
    expect(proxyFor('wss://relay.example/agent/connect', undefined, {})).toBeUndefined();
  });

  it('proxy_url wins over the environment and over NO_PROXY', () => {
    const chosen = proxyFor('wss://relay.example/x', 'socks5://mine:9', { ...env, NO_PROXY: '*' });
    expect(chosen?.source).toBe('proxy_url');
    expect(chosen?.url.host).toBe('mine:9');
  });

  it('NO_PROXY exempts hosts, domains and ports; * exempts all', () => {
    const cases: [string, string, boolean][] = [
      ['relay.example', 'wss://relay.example/x', false],
      ['.example', 'wss://relay.example/x', false],
      ['*.example', 'wss://relay.example/x', false],
      ['example', 'wss://relay.example/x', false],
      ['other.example, relay.example:8443', 'wss://relay.example/x', true],
      ['relay.example:443', 'wss://relay.example/x', false],
      ['*', 'ws://relay.example/x', false],
      ['lay.example', 'wss://relay.example/x', true],
    ];
    for (const [noProxy, target, proxied] of cases) {
      expect(
        proxyFor(target, undefined, { ...env, NO_PROXY: noProxy }) !== undefined,
        `${noProxy} ${target}`,
      ).toBe(proxied);
    }
  });

  it('never proxies a loopback relay', () => {
    for (const target of [
      'ws://127.0.0.1:8080/x',
      'ws://localhost/x',
      'wss://[::1]:1/x',
      'ws://127.3.2.1/x',
    ]) {
      expect(proxyFor(target, 'http://proxy:1', env)).toBeUndefined();
    }
  });
});

describe('proxy_url in the config', () => {
  it('comes from the file, AGENT_PROXY_URL or --proxy; the environment proxies ride along', () => {
    const config = loadConfig({
      argv: ['--relay', 'https://relay.example', '--token', 't', '--proxy', 'socks5://p:1080'],
      env: { AGENT_PROXY_URL: 'http://ignored:1', HTTPS_PROXY: 'http://envproxy:3128', NO_PROXY: 'x' },
    });
    expect(config.proxyUrl).toBe('socks5://p:1080');
    expect(config.proxyEnv).toEqual({ HTTPS_PROXY: 'http://envproxy:3128', NO_PROXY: 'x' });
  });

  it('a bad proxy_url or HTTPS_PROXY is a config problem that does not quote the password', () => {
    const problemOf = (argv: string[], env: Record<string, string>) => {
      try {
        loadConfig({ argv: ['--relay', 'https://relay.example', '--token', 't', ...argv], env });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    const flag = problemOf(['--proxy', `ftp://u:${SECRET}@p:1`], {});
    expect(flag).toMatch(/proxy_url \(from --proxy\) must be an http, https, socks4 or socks5 proxy URL/);
    const env = problemOf([], { HTTPS_PROXY: `gopher://u:${SECRET}@q:2` });
    expect(env).toMatch(/HTTPS_PROXY \(from the environment\) must be/);
    expect(flag + env).not.toContain(SECRET);
  });

  it('a bad environment proxy does not matter when proxy_url is set', () => {
    const config = loadConfig({
      argv: ['--relay', 'https://relay.example', '--token', 't', '--proxy', 'http://p:1'],
      env: { HTTPS_PROXY: 'gopher://q:2' },
    });
    expect(proxyFor(config.relayUrls[0]!, config.proxyUrl, config.proxyEnv)?.source).toBe('proxy_url');
  });
});
