import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, wantsHelp } from './load-config.js';

const FILE = `{
  // written by the relay's client package
  "platform_integration": {
    "platform_url": "https://relay.example/arena/", // a path prefix is kept
    "client_id": "cl_file",
    "api_key": "file-token",
    "heartbeat_interval_seconds": 20,
    "capabilities": ["chat", "images",],
    "log_level": "warn",
    "enable_request_logging": true,
  },
  /* block comments too */
  "upstream_url": "http://127.0.0.1:5102/",
  "upstream_api_key": null,
  "max_concurrency": 2,
  "status_port": 0,
}`;

/** A disk holding `files`; absent paths read as missing. */
function disk(files: Record<string, string>): (path: string) => string | undefined {
  return (path) => files[path];
}

const DEFAULT_PATH = resolve('./config.jsonc');

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads config.jsonc with comments and trailing commas', () => {
    const config = loadConfig({ argv: [], env: {}, readFile: disk({ [DEFAULT_PATH]: FILE }) });
    expect(config).toEqual({
      relayUrl: 'wss://relay.example/arena/agent/connect',
      token: 'file-token',
      clientId: 'cl_file',
      heartbeatIntervalSeconds: 20,
      capabilities: ['chat', 'images'],
      logLevel: 'warn',
      enableRequestLogging: true,
      upstreamUrl: 'http://127.0.0.1:5102',
      maxConcurrency: 2,
      statusPort: 0,
    });
  });

  it('applies defaults when only the relay and token are given, and no default file exists', () => {
    const config = loadConfig({
      argv: [],
      env: { AGENT_RELAY_URL: 'ws://127.0.0.1:8787', AGENT_TOKEN: 't' },
      readFile: disk({}),
    });
    expect(config).toEqual({
      relayUrl: 'ws://127.0.0.1:8787/agent/connect',
      token: 't',
      heartbeatIntervalSeconds: 15,
      capabilities: ['chat'],
      logLevel: 'info',
      enableRequestLogging: false,
      upstreamUrl: 'http://127.0.0.1:5102',
      maxConcurrency: 4,
      statusPort: 5103,
    });
  });

  it('lets environment override the file and flags override both', () => {
    const env = {
      AGENT_TOKEN: 'env-token',
      AGENT_MAX_CONCURRENCY: '3',
      AGENT_STATUS_PORT: '-1',
      AGENT_CLIENT_ID: 'cl_env',
      AGENT_UPSTREAM_API_KEY: 'bridge-key',
    };
    const argv = [
      '--token',
      'flag-token',
      '--max-concurrency=7',
      '--relay',
      'http://localhost:9000',
      '--log-level',
      'debug',
    ];
    const config = loadConfig({ argv, env, readFile: disk({ [DEFAULT_PATH]: FILE }) });
    expect(config.token).toBe('flag-token');
    expect(config.maxConcurrency).toBe(7);
    expect(config.relayUrl).toBe('ws://localhost:9000/agent/connect');
    expect(config.logLevel).toBe('debug');
    expect(config.statusPort).toBe(-1);
    expect(config.clientId).toBe('cl_env');
    expect(config.upstreamApiKey).toBe('bridge-key');
    expect(config.heartbeatIntervalSeconds).toBe(20); // only the file sets it
  });

  it('reads the file named by --config before the one named by AGENT_CONFIG', () => {
    const files = {
      [resolve('/etc/a.jsonc')]: FILE,
      [resolve('/etc/b.jsonc')]: '{"platform_integration": {}}',
    };
    const env = { AGENT_CONFIG: '/etc/b.jsonc' };
    expect(loadConfig({ argv: ['--config', '/etc/a.jsonc'], env, readFile: disk(files) }).token).toBe(
      'file-token',
    );
    const problems = problemsOf(() => loadConfig({ argv: [], env, readFile: disk(files) }));
    expect(problems.join('\n')).toContain('platform_integration.api_key is required');
  });

  it('refuses a missing explicit config file', () => {
    const problems = problemsOf(() =>
      loadConfig({
        argv: ['--config=/nope.jsonc', '--relay', 'http://r', '--token', 't'],
        env: {},
        readFile: disk({}),
      }),
    );
    expect(problems).toEqual([`config file ${resolve('/nope.jsonc')} (from --config) does not exist`]);
  });

  it('reports JSONC syntax errors with line and column', () => {
    const text = '{\n  "upstream_url": "http://x"\n  "max_concurrency": 2\n}';
    const problems = problemsOf(() =>
      loadConfig({
        argv: ['--relay', 'http://r', '--token', 't'],
        env: {},
        readFile: disk({ [DEFAULT_PATH]: text }),
      }),
    );
    expect(problems).toEqual([`${DEFAULT_PATH}:3:3: CommaExpected`]);
  });

  it('lists every bad value at once, naming where each came from, without echoing secrets', () => {
    const text = `{
      "platform_integration": { "platform_url": "ftp://relay", "capabilities": "chat", "enable_request_logging": "maybe", "api_key": 42 },
      "max_concurrency": 0,
      "upstream_url": "not a url"
    }`;
    const error = (() => {
      try {
        loadConfig({
          argv: ['--status-port', '70000', '--bogus', '1', 'stray'],
          env: { AGENT_LOG_LEVEL: 'loud', AGENT_MAX_CONCURRENCY: 'many' },
          readFile: disk({ [DEFAULT_PATH]: text }),
        });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      'unknown flag --bogus (see --help)',
      'unexpected argument "stray" (settings are given as --name value)',
      `platform_integration.platform_url (from ${DEFAULT_PATH}) must be an http(s) or ws(s) URL, not ftp:, got "ftp://relay"`,
      `platform_integration.api_key (from ${DEFAULT_PATH}) must be a string`,
      `platform_integration.capabilities (from ${DEFAULT_PATH}) must be a list of strings, got "chat"`,
      'platform_integration.log_level (from AGENT_LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      `platform_integration.enable_request_logging (from ${DEFAULT_PATH}) must be true or false, got "maybe"`,
      `upstream_url (from ${DEFAULT_PATH}) must be an absolute http(s) URL, got "not a url"`,
      'max_concurrency (from AGENT_MAX_CONCURRENCY) must be an integer from 1 to 1024, got "many"',
      'status_port (from --status-port) must be an integer from -1 to 65535, got "70000"',
    ]);
    expect(error.message).toMatch(/^invalid agent configuration:\n {2}- unknown flag --bogus/);
  });

  it('requires the relay address and the token, saying where to set them', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: {}, readFile: disk({}) }));
    expect(problems).toEqual([
      'platform_integration.platform_url is required (set it with platform_integration.platform_url, AGENT_RELAY_URL, --relay)',
      'platform_integration.api_key is required (set it with platform_integration.api_key, AGENT_TOKEN, --token)',
    ]);
  });

  it('never echoes a bad token value', () => {
    const problems = problemsOf(() =>
      loadConfig({ argv: ['--relay', 'http://r', '--token', '   '], env: {}, readFile: disk({}) }),
    );
    expect(problems).toEqual(['platform_integration.api_key (from --token) is required']);
  });

  it('flags a flag without a value', () => {
    const problems = problemsOf(() =>
      loadConfig({ argv: ['--relay', 'http://r', '--token'], env: {}, readFile: disk({}) }),
    );
    expect(problems).toContain('--token needs a value');
  });

  it('keeps an explicit /agent/connect path and rejects URLs with a query', () => {
    const base = { env: { AGENT_TOKEN: 't' }, readFile: disk({}) };
    expect(loadConfig({ ...base, argv: ['--relay', 'wss://r.example:8443/x/agent/connect'] }).relayUrl).toBe(
      'wss://r.example:8443/x/agent/connect',
    );
    const problems = problemsOf(() => loadConfig({ ...base, argv: ['--relay', 'https://r.example/?a=1'] }));
    expect(problems[0]).toContain('must not have a query string or fragment');
  });

  it('recognises --help', () => {
    expect(wantsHelp(['--token', 'x', '--help'])).toBe(true);
    expect(wantsHelp(['--token', 'x'])).toBe(false);
  });
});
