/**
 * The text files of a client package: config.jsonc prefilled for one client, setup_client.sh,
 * Dockerfile, docker-compose.yml, .env.example and README.md. Only the client id (an `[A-Za-z0-9_]`
 * id the relay generated) is ever put into shell or YAML; free text (the client's name) goes only
 * into JSON strings and Markdown.
 */
import type { ClientRecord } from '../store/store.js';
import { AGENT_BUNDLE_NAME } from './agent-bundle.js';

export type PackageInput = {
  client: ClientRecord;
  /** The fresh client token (only its hash is stored). */
  token: string;
  /** The relay address the agent dials (http(s); the agent derives ws(s)). */
  relayUrl: string;
  agentVersion: string;
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
    // The client token. Keep it secret. Downloading the package again issues a new one
    // and retires this one.
    "api_key": ${j(input.token)},
    "heartbeat_interval_seconds": 15,
    "capabilities": ${j(client.capabilities)},
    "log_level": "info",
    // One log line per finished request (model, status, bytes, duration).
    "enable_request_logging": false
  },
  // Your LMArenaBridge.
  "upstream_url": ${j(client.lmarena_bridge_url ?? DEFAULT_UPSTREAM_URL)},
  // The bridge's own api_key, if you set one in its config.
  "upstream_api_key": null,
  // Requests served at once.
  "max_concurrency": 4,
  // Local status server on 127.0.0.1 (/health, /platform/status, /stats); -1 turns it off.
  "status_port": 5103
}
`;
}

export function envExample(): string {
  return `# Optional overrides of config.jsonc, read by setup_client.sh, systemd and docker compose.
# Order of precedence: config.jsonc, then these variables, then command-line flags.
# AGENT_UPSTREAM_URL=http://127.0.0.1:5102
# AGENT_UPSTREAM_API_KEY=
# AGENT_MAX_CONCURRENCY=4
# AGENT_STATUS_PORT=5103
# AGENT_LOG_LEVEL=info
`;
}

export function setupScript(input: PackageInput): string {
  const id = safeId(input.client.id);
  const unit = `arena-agent-${id}`;
  return `#!/bin/sh
# Sets up the Arena Relay bridge agent of client ${id}.
#   ./setup_client.sh                      check Node.js, write .env, run the agent in the foreground
#   ./setup_client.sh --upstream URL       also set your LMArenaBridge address in .env
#   ./setup_client.sh --systemd            install and start a systemd service instead (uses sudo)
#   ./setup_client.sh --no-start           only check Node.js and write .env
set -eu
cd "$(dirname "$0")"
DIR=$(pwd)
SYSTEMD=0
START=1
UPSTREAM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --systemd) SYSTEMD=1 ;;
    --no-start) START=0 ;;
    --upstream) shift; UPSTREAM="\${1:-}" ;;
    --upstream=*) UPSTREAM="\${1#--upstream=}" ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is required: https://nodejs.org" >&2
  exit 1
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "Node.js 20 or newer is required; this is $(node --version)" >&2
  exit 1
fi

if [ ! -f .env ]; then
  cp .env.example .env
  echo "wrote .env"
fi
if [ -n "$UPSTREAM" ]; then
  case "$UPSTREAM" in
    http://*|https://*) ;;
    *) echo "--upstream must be an http(s) URL" >&2; exit 2 ;;
  esac
  grep -v '^AGENT_UPSTREAM_URL=' .env > .env.tmp || true
  printf 'AGENT_UPSTREAM_URL=%s\\n' "$UPSTREAM" >> .env.tmp
  mv .env.tmp .env
  echo "LMArenaBridge address set to $UPSTREAM"
fi
chmod 600 .env

if [ "$SYSTEMD" = 1 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  NODE_BIN=$(command -v node)
  $SUDO tee /etc/systemd/system/${unit}.service >/dev/null <<UNIT
[Unit]
Description=Arena Relay bridge agent (${id})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$(id -un)
WorkingDirectory=$DIR
EnvironmentFile=-$DIR/.env
ExecStart="$NODE_BIN" "$DIR/${AGENT_BUNDLE_NAME}"
Restart=always
RestartSec=5
TimeoutStopSec=20
NoNewPrivileges=true

[Install]
WantedBy=multi-user.target
UNIT
  $SUDO systemctl daemon-reload
  $SUDO systemctl enable --now ${unit}.service
  echo "started ${unit}.service; logs: journalctl -u ${unit} -f"
  exit 0
fi

if [ "$START" = 1 ]; then
  set -a
  . ./.env
  set +a
  exec node ${AGENT_BUNDLE_NAME}
fi
`;
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

export function readme(input: PackageInput): string {
  const { client } = input;
  const upstream = client.lmarena_bridge_url ?? DEFAULT_UPSTREAM_URL;
  return `# Arena Relay bridge agent — ${client.name.replace(/[\r\n]+/g, ' ')}

This folder lends your LMArenaBridge to the relay at ${input.relayUrl}. The agent dials **out**
over one WebSocket: you open no port. Agent ${input.agentVersion}, client \`${client.id}\`,
generated ${input.generatedAt.toISOString()}.

## Before you start

- LMArenaBridge running and its LMArena tab open (expected at ${upstream}; change
  \`upstream_url\` in \`config.jsonc\`, or pass \`--upstream\` to the setup script).
- Node.js 20 or newer — or Docker.

## Run it

\`\`\`sh
./setup_client.sh                  # checks Node.js, writes .env, runs the agent (Ctrl-C stops it)
./setup_client.sh --systemd        # or: install it as a systemd service that starts on boot
node ${AGENT_BUNDLE_NAME} --help           # every option
\`\`\`

With Docker: \`docker compose up -d --build\` (see the comments in \`docker-compose.yml\`).

The agent logs JSON lines. \`connected to the relay\` means it is serving. Its status page is at
http://127.0.0.1:5103/platform/status (\`/health\`, \`/stats\` too).

## Files

| file | what |
| --- | --- |
| \`${AGENT_BUNDLE_NAME}\` | the whole agent in one file (no \`npm install\`) |
| \`config.jsonc\` | relay address, client id, **your client token**, bridge address |
| \`.env.example\` | optional overrides (\`AGENT_*\` variables); the setup script copies it to \`.env\` |
| \`setup_client.sh\` | Node.js check, \`.env\`, start, optional systemd unit |
| \`Dockerfile\`, \`docker-compose.yml\` | the same in a container |

## Your token

\`config.jsonc\` holds a client token that only this package has: keep it private. The relay keeps
only a hash of it, so every download of the package issues a **new** token and retires the old
one — an agent still running with an older package is disconnected and must be updated.
`;
}
