/**
 * The text files of a client package: config.jsonc prefilled for one client, setup_client.sh and
 * setup_client.ps1, Dockerfile, docker-compose.yml, .env.example and README.md. Only the client id (an `[A-Za-z0-9_]`
 * id the relay generated) is ever put into shell or YAML; free text (the client's name) goes only
 * into JSON strings and Markdown.
 */
import type { ClientRecord } from '../store/store.js';
import { AGENT_BUNDLE_NAME } from './agent-bundle.js';
import { transportNotices } from './transport-notice.js';

export type PackageInput = {
  client: ClientRecord;
  /** The fresh client token (only its hash is stored). */
  token: string;
  /** Its public id (`tid_…`, see tokenIdOfHash): says which token the package holds. */
  tokenId: string;
  /** Until when the token this download replaced still works (ISO), or null: retired at once. */
  previousTokenValidUntil: string | null;
  /** The relay address the agent dials (http(s); the agent derives ws(s)). */
  relayUrl: string;
  agentVersion: string;
  /** The key the shipped release is signed by (pinned as `release_key`); none for an unsigned build. */
  releaseKey?: string | undefined;
  generatedAt: Date;
};

export const DEFAULT_UPSTREAM_URL = 'http://127.0.0.1:5102';

/** Anything but the relay's own id alphabet is refused before it reaches a script. */
function safeId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new Error(`unexpected client id ${JSON.stringify(id)}`);
  return id;
}

export function configJsonc(input: PackageInput): string {
  const { client } = input;
  const j = JSON.stringify;
  return `{
  // Arena Relay bridge agent for client ${j(client.name)} (${safeId(client.id)}),
  // generated ${input.generatedAt.toISOString()}. Environment variables (.env) and flags override it.
  "platform_integration": {
    "platform_url": ${j(input.relayUrl)},
    "client_id": ${j(client.id)},
    // The client token ${input.tokenId} (its id, not the secret). Keep it secret. Downloading the
    // package again issues a new one; this one then works for a grace period set by the relay.
    "api_key": ${j(input.token)},
    "capabilities": ${j(client.capabilities)},
    // Unset, the relay's setting for this client applies (default info); set, yours wins.
    // "log_level": "info",
    // One log line per finished request (model, status, bytes, duration).
    "enable_request_logging": false${releaseKeyLine(input.releaseKey)}
  },
  // Your bridge: LMArenaBridge v2.7.6 (:5102), CloudWaddie's LMArenaBridge (:8000),
  // WebAI2API (:3000) or an OpenAI-compatible server such as Ollama (:11434).
  "upstream_url": ${j(client.lmarena_bridge_url ?? DEFAULT_UPSTREAM_URL)},
  // Which one it is: auto (found from what it answers), lmarenabridge-v2, lmarenabridge-cw,
  // webai2api or openai.
  "bridge": "auto",
  // The bridge's own key, if it has one (CloudWaddie's: an sk-lmab-… key from its dashboard).
  "upstream_api_key": null,
  // Requests served at once. Unset, the relay's setting for this client applies (default 4);
  // set, yours wins.
  // "max_concurrency": 4,
  // Your bridge's own page on this machine: http://127.0.0.1:5103/ (what it served, what failed
  // and why, what to do), also as JSON (/platform/status, /health, /stats); -1 turns it off.
  "status_port": 5103,
  // A proxy to reach the relay through, if this network needs one (else HTTPS_PROXY / ALL_PROXY
  // apply). It may hold a password: keep this file private.
  // "proxy_url": "http://user:password@proxy.example:3128",
  // A desktop notification when the bridge needs you (Cloudflare check, session expired, tab closed).
  // "desktop_notifications": true,
  // Take new agent versions from the relay: only releases signed by release_key, only newer
  // ones, handed over without cutting a stream. The relay's operator can pin or stop updates.
  "auto_update": true
}
`;
}

/** The pinned release key (signed releases only): the relay serves updates, it cannot sign one. */
function releaseKeyLine(key: string | undefined): string {
  if (key === undefined) return '';
  return `,
    // The operator's release key: the agent runs only updates signed by it (see SECURITY.md).
    "release_key": ${JSON.stringify(key)}`;
}

export function envExample(): string {
  return `# Optional overrides of config.jsonc for docker compose (copy to .env). A service installed by
# setup reads config.jsonc alone: put settings there (setup --upstream URL ... writes them).
# Order of precedence: config.jsonc, then these variables, then command-line flags.
# AGENT_UPSTREAM_URL=http://127.0.0.1:5102
# AGENT_UPSTREAM_API_KEY=
# AGENT_MAX_CONCURRENCY=4
# AGENT_STATUS_PORT=5103
# AGENT_LOG_LEVEL=info
`;
}

/** What both setup scripts say about their options: they pass them all to `setup`. */
const SETUP_USAGE = [
  'check Node.js, config.jsonc, the relay and your bridge; offer to install a service',
  '--upstream URL    also set your LMArenaBridge address in config.jsonc',
  '--service         install and start the agent as a service without asking',
  '--no-service      only check and configure',
  'any other agent flag (--max-concurrency N ...) is written into config.jsonc',
];

/**
 * setup_client.sh: finds Node.js and hands over to `node arena-agent.mjs setup`, which holds every
 * step (the same entry point setup_client.ps1 calls), so the two scripts cannot drift.
 */
export function setupScript(input: PackageInput): string {
  const id = safeId(input.client.id);
  const [what, ...options] = SETUP_USAGE;
  return `#!/bin/sh
# Sets up the Arena Relay bridge agent of client ${id}: ${what}.
${options.map((line) => `#   ./setup_client.sh ${line}`).join('\n')}
# All the work is done by "node ${AGENT_BUNDLE_NAME} setup"; this script only finds Node.js.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is required: https://nodejs.org" >&2
  exit 1
fi
exec node ${AGENT_BUNDLE_NAME} setup "$@"
`;
}

/**
 * setup_client.ps1, for Windows: the same hand-over as setup_client.sh. ASCII only, so Windows
 * PowerShell 5.1 (which reads a file without BOM in the ANSI code page) reads it right; CRLF
 * line ends, as Windows tools expect.
 */
export function setupPowerShell(input: PackageInput): string {
  const id = safeId(input.client.id);
  const [what, ...options] = SETUP_USAGE;
  const lines = [
    `# Sets up the Arena Relay bridge agent of client ${id}: ${what}.`,
    '#   powershell -ExecutionPolicy Bypass -File setup_client.ps1 [options]',
    ...options.map((line) => `#   ${line}`),
    `# All the work is done by "node ${AGENT_BUNDLE_NAME} setup"; this script only finds Node.js.`,
    "$ErrorActionPreference = 'Stop'",
    'Set-Location -LiteralPath $PSScriptRoot',
    '$node = Get-Command node -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1',
    'if (-not $node) {',
    "  Write-Error 'Node.js 20 or newer is required: https://nodejs.org (winget install OpenJS.NodeJS.LTS)'",
    '  exit 1',
    '}',
    `& $node.Source (Join-Path $PSScriptRoot '${AGENT_BUNDLE_NAME}') setup @args`,
    'exit $LASTEXITCODE',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

export function dockerfile(): string {
  return `# The bridge agent in a container: one file, no npm install.
FROM node:20-alpine
WORKDIR /app
COPY ${AGENT_BUNDLE_NAME} ./
ENV NODE_ENV=production AGENT_CONFIG=/app/config.jsonc
USER node
CMD ["node", "${AGENT_BUNDLE_NAME}"]
`;
}

export function composeFile(input: PackageInput): string {
  const id = safeId(input.client.id).toLowerCase().replace(/_/g, '-');
  return `services:
  arena-agent:
    build: .
    image: arena-agent-${id}
    restart: unless-stopped
    # The agent only dials out: no published port. Host networking lets it reach LMArenaBridge on
    # 127.0.0.1 (Linux). With Docker Desktop, remove network_mode and set in .env:
    #   AGENT_UPSTREAM_URL=http://host.docker.internal:5102
    network_mode: host
    env_file:
      - path: .env
        required: false
    volumes:
      # The container runs as uid 1000: config.jsonc must be readable by it.
      - ./config.jsonc:/app/config.jsonc:ro
    stop_grace_period: 20s
`;
}

/** The README's warning about the relay address, when there is one to give (else a blank line). */
function transportSection(relayUrl: string): string {
  const notices = transportNotices(relayUrl);
  if (notices.length === 0) return '';
  const items = notices.map((notice) => `- ${notice.text}`).join('\n');
  return `
## Warning: ${relayUrl}

${items}

An agent dialling a plain http address across a network warns about it at every start, and
\`node ${AGENT_BUNDLE_NAME} doctor\` fails its transport check. Ask the relay's operator for a
package with an https address that this machine can reach.
`;
}

export function readme(input: PackageInput): string {
  const { client } = input;
  const upstream = client.lmarena_bridge_url ?? DEFAULT_UPSTREAM_URL;
  return `# Arena Relay bridge agent — ${client.name.replace(/[\r\n]+/g, ' ')}

This folder lends your LMArenaBridge to the relay at ${input.relayUrl}. The agent dials **out**
over one WebSocket: you open no port. Agent ${input.agentVersion}, client \`${client.id}\`,
generated ${input.generatedAt.toISOString()}.
${transportSection(input.relayUrl)}
## Before you start

- LMArenaBridge running and its LMArena tab open (expected at ${upstream}; change
  \`upstream_url\` in \`config.jsonc\`, or pass \`--upstream\` to the setup script).
- Node.js 20 or newer — or Docker.

## Run it

Linux and macOS:

\`\`\`sh
./setup_client.sh                  # checks Node.js, the config, the relay and your bridge; offers a service
./setup_client.sh --service        # installs it as a service that starts when you log in, without asking
node ${AGENT_BUNDLE_NAME}                  # or just run it here (Ctrl-C stops it)
node ${AGENT_BUNDLE_NAME} --help           # every option
\`\`\`

Windows (PowerShell, in this folder):

\`\`\`powershell
powershell -ExecutionPolicy Bypass -File setup_client.ps1            # same checks; offers a Scheduled Task
powershell -ExecutionPolicy Bypass -File setup_client.ps1 --service
node ${AGENT_BUNDLE_NAME}
\`\`\`

Both scripts run \`node ${AGENT_BUNDLE_NAME} setup\`; \`node ${AGENT_BUNDLE_NAME} doctor\` checks a running
setup again, \`uninstall-service\` removes the service.
Something wrong you cannot fix? \`node ${AGENT_BUNDLE_NAME} doctor --bundle\` writes a zip (checks,
versions, the config without its secrets, the last log lines) to send to the relay's operator.

With Docker: \`docker compose up -d --build\` (see the comments in \`docker-compose.yml\`).

The agent logs JSON lines. \`connected to the relay\` means it is serving.

## Your bridge's own page

Open **http://127.0.0.1:5103/** in a browser on this machine (the port is \`status_port\` in
\`config.jsonc\`; only this machine can open it). It says whether your bridge is serving and, when
not, why and what to do, then what it served since the agent started and in the last hour:
requests, failures by reason with the fix in plain words, the models asked for, and the last
errors with their time. Where LMArenaBridge wrote its errors in Chinese, the page tells them in
Chinese too. It never shows what was asked or answered. The same as JSON:
http://127.0.0.1:5103/platform/status (\`/health\`, \`/stats\` too).

As a service the agent also writes its log to \`arena-agent.log\` in this folder (5 MiB, then
\`.1\`, \`.2\`, \`.3\`; never your token); \`doctor\` and the status page say where it is. On Windows
the Scheduled Task runs it **hidden** from each log-on (no window to close by mistake) and starts
it again after a crash, waiting longer each time; it stays stopped after a config or token problem,
which \`arena-agent.log\` explains. Stop and remove it with
\`node ${AGENT_BUNDLE_NAME} uninstall-service\`.

## Files

| file | what |
| --- | --- |
| \`${AGENT_BUNDLE_NAME}\` | the whole agent in one file (no \`npm install\`) |
| \`config.jsonc\` | relay address, client id, **your client token**, bridge address |
| \`.env.example\` | optional overrides (\`AGENT_*\` variables) for docker compose: copy it to \`.env\` |
| \`setup_client.sh\`, \`setup_client.ps1\` | checks and an optional service (systemd, launchd, Scheduled Task), by \`node ${AGENT_BUNDLE_NAME} setup\` |
| \`Dockerfile\`, \`docker-compose.yml\` | the same in a container |

## Your token

\`config.jsonc\` holds a client token that only this package has: keep it private. The relay keeps
only a hash of it, so every download of the package issues a **new** token and retires the old
one — an agent still running with an older package keeps working for the relay's grace period,
then stops, saying its token was replaced, with an exit code its service does not restart.

This package holds token **${input.tokenId}** (an id, not the secret; \`arena-agent doctor\` shows
the id of the token an agent uses). ${
    input.previousTokenValidUntil === null
      ? 'The token this download replaced was retired at once.'
      : `The token this download replaced works until ${input.previousTokenValidUntil}.`
  }
`;
}
