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

/** A self-signed CA certificate (public part only), valid until 2126. */
const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBkjCCATmgAwIBAgIUTS1AYRXzcJQwu72H9hJDfpMUd+owCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTYXJlbmEtcmVsYXkgdGVzdCBDQTAgFw0yNjExMjYwNDUwNTha
GA8yMTI2MTEwMjA0NTA1OFowHjEcMBoGA1UEAwwTYXJlbmEtcmVsYXkgdGVzdCBD
QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCPvKeIeVuHd5W/7EBx8UIbF4PJ1
+QRV6ph4Ram4x0orAI/j9rNFMy6MUjpEVyoF+f2I7R3eop8rZvVQ2wbVA8ijUzBR
MB0GA1UdDgQWBBQY6qqHArEvpAKvoV4792R2AqMH7jAfBgNVHSMEGDAWgBQY6qqH
ArEvpAKvoV4792R2AqMH7jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cA
MEQCIHc9J3HOB40fgaa9WveWsT0uIoJLKjaW+YtiLhlDLm9pAiAVObETHhmWgMoZ
xFW14UJia6pqf9d2zohsp2lNNGbe5g==
-----END CERTIFICATE-----
`;

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
      relayUrls: ['wss://relay.example/arena/agent/connect'],
      token: 'file-token',
      clientId: 'cl_file',
      capabilities: ['chat', 'images'],
      logLevel: 'warn',
      enableRequestLogging: true,
      upstreamUrl: 'http://127.0.0.1:5102',
      maxConcurrency: 2,
      connections: 2,
      statusPort: 0,
      autoUpdate: false,
      serviceManager: 'none',
      bridge: 'auto',
      desktopNotifications: false,
    });
  });

  it('applies defaults when only the relay and token are given, and no default file exists', () => {
    const config = loadConfig({
      argv: [],
      env: { AGENT_RELAY_URL: 'ws://127.0.0.1:8787', AGENT_TOKEN: 't' },
      readFile: disk({}),
    });
    expect(config).toEqual({
      relayUrls: ['ws://127.0.0.1:8787/agent/connect'],
      token: 't',
      capabilities: ['chat'],
      logLevel: 'info',
      enableRequestLogging: false,
      upstreamUrl: 'http://127.0.0.1:5102',
      maxConcurrency: 4,
      connections: 2,
      statusPort: 5103,
      autoUpdate: false,
      serviceManager: 'none',
      bridge: 'auto',
      desktopNotifications: false,
    });
  });

  it('takes bridge from the file, AGENT_BRIDGE or --bridge, and names the choices when wrong', () => {
    const base = { argv: ['--relay', 'ws://r', '--token', 't'], readFile: disk({}) };
    expect(loadConfig({ ...base, env: {} }).bridge).toBe('auto');
    expect(loadConfig({ ...base, env: { AGENT_BRIDGE: ' LMArenaBridge-CW ' } }).bridge).toBe(
      'lmarenabridge-cw',
    );
    expect(
      loadConfig({ ...base, argv: [...base.argv, '--bridge', 'openai'], env: { AGENT_BRIDGE: 'webai2api' } })
        .bridge,
    ).toBe('openai');
    expect(() => loadConfig({ ...base, env: { AGENT_BRIDGE: 'ollama' } })).toThrow(
      /bridge.*must be one of auto, lmarenabridge-v2, lmarenabridge-cw, webai2api, openai/,
    );
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
    expect(config.relayUrls).toEqual(['ws://localhost:9000/agent/connect']);
    expect(config.logLevel).toBe('debug');
    expect(config.statusPort).toBe(-1);
    expect(config.clientId).toBe('cl_env');
    expect(config.upstreamApiKey).toBe('bridge-key');
    expect(config.enableRequestLogging).toBe(true); // only the file sets it
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

  it('reads the pinned release key, and refuses one that is not an Ed25519 public key', () => {
    const key = 'rc6Nkoa2eiVUNk8aQPKOLfpaPEmspYdOftq0Jg-wRdI';
    const text = `{ "platform_integration": { "release_key": "${key}" } }`;
    const config = loadConfig({
      argv: ['--relay', 'http://r', '--token', 't'],
      env: {},
      readFile: disk({ [DEFAULT_PATH]: text }),
    });
    expect(config.releaseKey).toBe(key);
    const problems = problemsOf(() =>
      loadConfig({
        argv: ['--relay', 'http://r', '--token', 't'],
        env: { AGENT_RELEASE_KEY: `${key}=` },
        readFile: disk({}),
      }),
    );
    expect(problems).toEqual([
      `platform_integration.release_key (from AGENT_RELEASE_KEY) must be an Ed25519 public key (base64url), got "${key}="`,
    ]);
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
    expect(
      loadConfig({ ...base, argv: ['--relay', 'wss://r.example:8443/x/agent/connect'] }).relayUrls,
    ).toEqual(['wss://r.example:8443/x/agent/connect']);
    const problems = problemsOf(() => loadConfig({ ...base, argv: ['--relay', 'https://r.example/?a=1'] }));
    expect(problems[0]).toContain('must not have a query string or fragment');
  });

  it('accepts and ignores heartbeat_interval_seconds, whatever its value (packages in the field have it)', () => {
    for (const value of ['15', '"fast"', '-1', '{}']) {
      const text = `{ "platform_integration": { "platform_url": "http://r", "api_key": "t", "heartbeat_interval_seconds": ${value} } }`;
      const config = loadConfig({ argv: [], env: {}, readFile: disk({ [DEFAULT_PATH]: text }) });
      expect(Object.keys(config)).not.toContain('heartbeatIntervalSeconds');
      expect(config.token).toBe('t');
    }
  });

  it('reads a boolean from every spelling both programs accept, case-insensitive, and refuses others', () => {
    const base = { argv: ['--relay', 'http://r', '--token', 't'], readFile: disk({}) };
    const spellings: Array<[string, boolean]> = [
      ['true', true],
      [' TRUE ', true],
      ['1', true],
      ['Yes', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['NO', false],
      ['Off', false],
    ];
    for (const [word, expected] of spellings) {
      expect(loadConfig({ ...base, env: { AGENT_AUTO_UPDATE: word } }).autoUpdate, word).toBe(expected);
    }
    expect(problemsOf(() => loadConfig({ ...base, env: { AGENT_AUTO_UPDATE: 'enabled' } }))).toEqual([
      'auto_update (from AGENT_AUTO_UPDATE) must be true or false, got "enabled"',
    ]);
  });

  it('recognises --help', () => {
    expect(wantsHelp(['--token', 'x', '--help'])).toBe(true);
    expect(wantsHelp(['--token', 'x'])).toBe(false);
  });

  describe('several relays', () => {
    const base = { env: { AGENT_TOKEN: 't' }, readFile: disk({}) };

    it('takes a comma-separated list, keeps its order and drops repeats', () => {
      const config = loadConfig({
        ...base,
        argv: ['--relay', 'https://a.example, http://b.example:8787/x ,https://a.example/'],
      });
      expect(config.relayUrls).toEqual([
        'wss://a.example/agent/connect',
        'ws://b.example:8787/x/agent/connect',
      ]);
    });

    it('takes an array in config.jsonc, and a list from the environment over it', () => {
      const text = '{ "platform_integration": { "platform_url": ["http://a:1", "http://b:2"] } }';
      const files = disk({ [DEFAULT_PATH]: text });
      expect(loadConfig({ ...base, argv: [], readFile: files }).relayUrls).toEqual([
        'ws://a:1/agent/connect',
        'ws://b:2/agent/connect',
      ]);
      const env = { ...base.env, AGENT_RELAY_URL: 'http://c:3,http://d:4' };
      expect(loadConfig({ argv: [], env, readFile: files }).relayUrls).toEqual([
        'ws://c:3/agent/connect',
        'ws://d:4/agent/connect',
      ]);
    });

    it('names the bad entry of a list, and refuses an empty one or a non-string', () => {
      expect(problemsOf(() => loadConfig({ ...base, argv: ['--relay', 'http://a,ftp://b'] }))).toEqual([
        'platform_integration.platform_url (from --relay) entry 2 must be an http(s) or ws(s) URL, not ftp:, got "http://a,ftp://b"',
      ]);
      expect(problemsOf(() => loadConfig({ ...base, argv: ['--relay', ' , '] }))).toEqual([
        'platform_integration.platform_url (from --relay) must name at least one relay, got " , "',
      ]);
      const text = '{ "platform_integration": { "platform_url": ["http://a", 7] } }';
      expect(
        problemsOf(() => loadConfig({ ...base, argv: [], readFile: disk({ [DEFAULT_PATH]: text }) })),
      ).toEqual([
        `platform_integration.platform_url (from ${DEFAULT_PATH}) must be a URL string or a list of them, got ["http://a",7]`,
      ]);
    });
  });

  describe('ca_file', () => {
    const relay = ['--relay', 'https://relay.example', '--token', 't'];

    it('resolves a path from config.jsonc against the file, one from --ca or AGENT_CA_FILE against the cwd', () => {
      const configPath = resolve('/etc/arena/config.jsonc');
      const files = {
        [configPath]: '{ "platform_integration": { "ca_file": "ca.pem" } }',
        [resolve('/etc/arena/ca.pem')]: CA_PEM,
        [resolve('certs/ca.pem')]: CA_PEM,
      };
      const fromFile = loadConfig({
        argv: [...relay, '--config', configPath],
        env: {},
        readFile: disk(files),
      });
      expect(fromFile.caFile).toBe(resolve('/etc/arena/ca.pem'));
      const fromFlag = loadConfig({
        argv: [...relay, '--config', configPath, '--ca', 'certs/ca.pem'],
        env: {},
        readFile: disk(files),
      });
      expect(fromFlag.caFile).toBe(resolve('certs/ca.pem'));
      const fromEnv = loadConfig({
        argv: relay,
        env: { AGENT_CA_FILE: 'certs/ca.pem' },
        readFile: disk(files),
      });
      expect(fromEnv.caFile).toBe(resolve('certs/ca.pem'));
    });

    it('is absent unless given', () => {
      expect(loadConfig({ argv: relay, env: {}, readFile: disk({}) }).caFile).toBeUndefined();
    });

    it('refuses a missing file and one that holds no certificate, alongside other problems', () => {
      const missing = problemsOf(() =>
        loadConfig({
          argv: [...relay, '--ca', '/nope/ca.pem', '--max-concurrency', '0'],
          env: {},
          readFile: disk({}),
        }),
      );
      expect(missing).toEqual([
        'max_concurrency (from --max-concurrency) must be an integer from 1 to 1024, got "0"',
        `platform_integration.ca_file (from --ca) names a file that does not exist: ${resolve('/nope/ca.pem')}`,
      ]);
      const files = { [resolve('/k.pem')]: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' };
      const notCert = problemsOf(() =>
        loadConfig({ argv: relay, env: { AGENT_CA_FILE: '/k.pem' }, readFile: disk(files) }),
      );
      expect(notCert).toEqual([
        `platform_integration.ca_file (from AGENT_CA_FILE) must be a PEM file of CA certificates (-----BEGIN CERTIFICATE-----): ${resolve('/k.pem')}`,
      ]);
    });
  });
});
