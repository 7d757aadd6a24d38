/**
 * The deployment files, checked without a Docker engine: docker-compose.yml (services, wiring,
 * every environment name known to the program it configures), both Dockerfiles (multi-stage,
 * non-root, health-checked, running files the build produces) and the nginx balancer config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../bridge-agent/src/config/load-config.js';
import { FIELDS } from '../bridge-agent/src/config/schema.js';
import { RELAY_ENV_NAMES } from '../relay/src/config/load-config.js';
import { BUNDLES } from '../scripts/build.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// --- docker-compose.yml -------------------------------------------------------------------------

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  expose?: string[];
};

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const RELAYS = ['relay-a', 'relay-b'];

/** Compose's `${NAME:-default}` / `${NAME:?error}` / `${NAME}` → the default, or undefined. */
function interpolated(value: string): string | undefined {
  const match = /^\$\{(\w+)(?::?-([^}]*)|:?\?[^}]*)?\}$/.exec(value);
  if (!match) return value;
  return match[2];
}

// --- Dockerfiles ----------------------------------------------------------------------------------

type Instruction = { keyword: string; args: string; stage: number };

/** Instructions in order (continuation lines joined, comments dropped), each with its stage index. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const space = full.indexOf(' ');
    const keyword = full.slice(0, space).toUpperCase();
    if (keyword === 'FROM') stage++;
    instructions.push({ keyword, args: full.slice(space + 1).trim(), stage });
  }
  return instructions;
}

/** Source paths of the COPY instructions that copy from the build context. */
function contextCopies(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      return words.slice(0, -1);
    });
}

/** `.dockerignore` patterns that would hide `path` from the build (prefix and `**\/*.ext` forms). */
function ignoredBy(patterns: string[], path: string): string[] {
  return patterns.filter((pattern) => {
    if (pattern.startsWith('**/*')) return path.endsWith(pattern.slice(4));
    const bare = pattern.replace(/^\*\*\//, '');
    return path === bare || path.startsWith(`${bare}/`) || path.split('/').includes(bare);
  });
}

const dockerignore = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

// --- nginx.conf -----------------------------------------------------------------------------------

type Block = { name: string; args: string[]; directives: string[][]; blocks: Block[] };

/** A small nginx config reader: blocks with their directives (word lists); comments dropped. */
function parseNginx(text: string): Block {
  const tokens = text.replace(/#[^\n]*/g, '').match(/'[^']*'|"[^"]*"|[{};]|[^\s{};]+/g) as string[];
  const root: Block = { name: 'root', args: [], directives: [], blocks: [] };
  const stack = [root];
  let words: string[] = [];
  for (const token of tokens) {
    const current = stack.at(-1)!;
    if (token === ';') {
      current.directives.push(words);
      words = [];
    } else if (token === '{') {
      const block: Block = { name: words[0]!, args: words.slice(1), directives: [], blocks: [] };
      current.blocks.push(block);
      stack.push(block);
      words = [];
    } else if (token === '}') {
      stack.pop();
    } else {
      words.push(token);
    }
  }
  expect(stack).toHaveLength(1);
  return root;
}

const nginx = parseNginx(read('docker/nginx.conf'));
const http = nginx.blocks.find((b) => b.name === 'http')!;
const directive = (block: Block, name: string) => block.directives.filter((d) => d[0] === name);
const location = (path: string) =>
  http.blocks
    .find((b) => b.name === 'server')
    ?.blocks.find((b) => b.name === 'location' && b.args.at(-1) === path);

// --------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('runs redis, two relays, a balancer and an example agent', () => {
    expect(Object.keys(services).sort()).toEqual(['agent', 'balancer', 'redis', 'relay-a', 'relay-b']);
    expect(service('redis').image).toMatch(/^redis:/);
    expect(service('balancer').image).toMatch(/^nginx:/);
    for (const name of RELAYS) expect(service(name).build?.dockerfile).toBe('docker/relay.Dockerfile');
    expect(service('agent').build?.dockerfile).toBe('docker/bridge-agent.Dockerfile');
    for (const s of Object.values(services)) {
      if (s.build) expect(existsSync(join(ROOT, s.build.context, s.build.dockerfile))).toBe(true);
    }
  });

  it('starts each service after what it needs is healthy', () => {
    for (const name of RELAYS)
      expect(service(name).depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(service('balancer').depends_on).toEqual({
      'relay-a': { condition: 'service_healthy' },
      'relay-b': { condition: 'service_healthy' },
    });
    expect(service('agent').depends_on).toEqual({
      'relay-a': { condition: 'service_healthy' },
      'relay-b': { condition: 'service_healthy' },
    });
    expect(service('redis').healthcheck?.test).toContain('ping');
  });

  it('gives the relays one Redis and prefix, TRUST_PROXY and an admin token that must come from .env', () => {
    const envs = RELAYS.map((name) => service(name).environment!);
    expect(envs[0]).toEqual(envs[1]);
    const env = envs[0]!;
    expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
    expect(env.REDIS_PREFIX).toBeDefined();
    expect(env.TRUST_PROXY).toBe('true');
    expect(env.HOST).toBe('0.0.0.0');
    // Required, with no default: a compose file must not ship a usable admin token.
    expect(env.ADMIN_TOKEN).toMatch(/^\$\{ADMIN_TOKEN:\?[^}]+\}$/);
  });

  it('sets on the relays only variables the relay config schema reads', () => {
    for (const name of RELAYS) {
      const unknown = Object.keys(service(name).environment!).filter((key) => !RELAY_ENV_NAMES.includes(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it('sets on the agent only variables of the agent FIELDS table, and gives it one connection to each relay', () => {
    const known: string[] = [
      ...Object.values(FIELDS).flatMap((f) => ('env' in f ? [f.env] : [])),
      'AGENT_CONFIG',
    ];
    const env = service('agent').environment!;
    expect(Object.keys(env).filter((key) => !known.includes(key))).toEqual([]);
    // Both relays by their own address and port, and two sockets held at once: a rolling restart
    // never leaves the agent without a relay.
    const relays = env.AGENT_RELAY_URL!.split(',').map((url) => new URL(url));
    expect(relays.map((url) => url.hostname)).toEqual(RELAYS);
    for (const [i, url] of relays.entries()) {
      expect(url.port).toBe(service(RELAYS[i]!).environment!.PORT);
      expect(service(RELAYS[i]!).expose).toContain(url.port);
    }
    const config = loadConfig({
      argv: [],
      env: {
        AGENT_RELAY_URL: env.AGENT_RELAY_URL!,
        AGENT_CONNECTIONS: env.AGENT_CONNECTIONS!,
        AGENT_TOKEN: 't',
      },
      readFile: () => undefined,
    });
    expect(config.connections).toBe(2);
    expect(config.relayUrls).toHaveLength(2);
    expect(env.AGENT_TOKEN).toMatch(/^\$\{AGENT_TOKEN(:-)?\}$/);
    expect(service('agent').profiles).toEqual(['agent']);
  });

  it('publishes only the balancer, on its nginx listen port, with the config mounted', () => {
    const published = Object.entries(services).filter(([, s]) => s.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['balancer']);
    const [host, container] = service('balancer').ports![0]!.split(/:(?=\d+$)/);
    expect(interpolated(host!)).toBe('8080');
    const listen = directive(http.blocks.find((b) => b.name === 'server')!, 'listen')[0];
    expect(listen?.[1]).toBe(container);
    expect(service('balancer').volumes).toContain('./docker/nginx.conf:/etc/nginx/nginx.conf:ro');
  });
});

describe.each([
  ['docker/relay.Dockerfile', 'relay'],
  ['docker/bridge-agent.Dockerfile', 'agent'],
])('%s', (path, program) => {
  const instructions = parseDockerfile(read(path));
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const last = froms.length - 1;
  const final = instructions.filter((i) => i.stage === last);

  it('is multi-stage on Node 20, with a slim runtime', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:20-bookworm(-slim)? AS \w+/);
    expect(froms[last]!.args).toMatch(/^node:20-bookworm-slim /);
  });

  it('installs production dependencies with npm ci --omit=dev and builds the bundle with npm run build', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('npm ci --omit=dev'))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build'))).toBe(true);
    const manifest = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(manifest.scripts.build).toBe('tsx scripts/build.ts');
  });

  it('runs as a non-root user with a HEALTHCHECK', () => {
    const user = final.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toBeDefined();
    expect(['root', '0']).not.toContain(user?.args);
    const health = final.find((i) => i.keyword === 'HEALTHCHECK');
    const command = JSON.parse(health!.args.slice(health!.args.indexOf('CMD') + 4)) as string[];
    expect(command).toEqual(['node', 'docker/healthcheck.mjs', program]);
    expect(contextCopies(final)).toContain('docker/healthcheck.mjs');
  });

  it('runs a file the build script produces, copied into the runtime stage', () => {
    const cmd = JSON.parse(final.find((i) => i.keyword === 'CMD')!.args) as string[];
    expect(cmd[0]).toBe('node');
    const script = cmd.at(-1)!;
    expect(Object.values(BUNDLES).map((file) => `dist/${file}`)).toContain(script);
    const copied = final
      .filter((i) => i.keyword === 'COPY' && i.args.includes('--from=build'))
      .flatMap((i) => i.args.split(/\s+/).slice(1, -1));
    expect(copied.some((source) => source === '/src/dist' || source === `/src/${script}`)).toBe(true);
    if (program === 'relay') {
      // The relay reads the dashboard files and the client packages' agent beside its bundle.
      expect(copied).toEqual(['/src/dist']);
    }
  });

  it('copies from the context only files that exist and .dockerignore lets through', () => {
    const sources = contextCopies(instructions);
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignoredBy(dockerignore, source), source).toEqual([]);
    }
  });

  it('bakes in no secret', () => {
    const settings = instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG');
    for (const setting of settings) expect(setting.args).not.toMatch(/TOKEN|API_KEY|PASSWORD|SECRET/i);
    expect(dockerignore).toContain('.env');
  });
});

describe('docker/nginx.conf', () => {
  it('balances over both relays on the port they listen on', () => {
    const upstream = http.blocks.find((b) => b.name === 'upstream' && b.args[0] === 'relays')!;
    const servers = directive(upstream, 'server').map((d) => d[1]);
    const port = service('relay-a').environment!.PORT;
    expect(servers).toEqual(RELAYS.map((name) => `${name}:${port}`));
  });

  it('proxies the agent WebSocket with the upgrade headers and no buffering', () => {
    const ws = location('/agent/connect')!;
    expect(directive(ws, 'proxy_pass')).toEqual([['proxy_pass', 'http://relays']]);
    expect(directive(ws, 'proxy_http_version')[0]?.[1]).toBe('1.1');
    const headers = directive(ws, 'proxy_set_header').map((d) => `${d[1]} ${d[2]}`);
    expect(headers).toContain('Upgrade $http_upgrade');
    expect(headers).toContain('Connection $connection_upgrade');
    expect(directive(ws, 'proxy_buffering')).toEqual([['proxy_buffering', 'off']]);
    const map = http.blocks.find((b) => b.name === 'map' && b.args[1] === '$connection_upgrade');
    expect(map?.directives).toContainEqual(['default', 'upgrade']);
  });

  it('streams the API unbuffered, setting (not appending) X-Forwarded-For and X-Forwarded-Proto', () => {
    for (const path of ['/', '/agent/connect']) {
      const block = location(path)!;
      expect(directive(block, 'proxy_pass')[0]?.[1], path).toBe('http://relays');
      expect(directive(block, 'proxy_buffering')[0]?.[1], path).toBe('off');
      const headers = directive(block, 'proxy_set_header').map((d) => `${d[1]} ${d[2]}`);
      // One hop, nginx's own: an address the client wrote must not survive to the relay.
      expect(headers, path).toContain('X-Forwarded-For $remote_addr');
      expect(headers, path).toContain('X-Forwarded-Proto $scheme');
    }
  });

  it('waits longer than the relay request timeout before giving up on a response', () => {
    const seconds = Number.parseInt(directive(location('/')!, 'proxy_read_timeout')[0]![1]!, 10);
    expect(seconds).toBeGreaterThan(300);
  });
});
