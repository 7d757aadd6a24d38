# syntax=docker/dockerfile:1
# Arena Relay bridge agent. Build from the repository root:
#   docker build -f docker/bridge-agent.Dockerfile -t arena-relay/bridge-agent .
# Configuration: AGENT_* environment variables, or a config.jsonc mounted at /app/config.jsonc.
# No token is baked in.

# --- build: full install (esbuild, tsx), then `npm run build` makes dist/ (see scripts/build.ts) -
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY relay/package.json relay/
COPY bridge-agent/package.json bridge-agent/
RUN npm ci
COPY tsconfig.json ./
COPY scripts/build.ts scripts/build-agent-bundle.ts scripts/
COPY shared/src shared/src
COPY relay/src relay/src
COPY bridge-agent/src bridge-agent/src
RUN npm run build

# --- deps: production node_modules for the lockfile (the workspaces share one). -----------------
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY relay/package.json relay/
COPY bridge-agent/package.json bridge-agent/
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: slim Debian, plain node, non-root -------------------------------------------------
FROM node:20-bookworm-slim AS runtime
# The status server binds 127.0.0.1 inside the container: the HEALTHCHECK reaches it there.
ENV NODE_ENV=production \
    AGENT_STATUS_PORT=5103
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/dist/bridge-agent.js /src/dist/bridge-agent.js.map dist/
COPY docker/healthcheck.mjs docker/
USER node
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "docker/healthcheck.mjs", "agent"]
CMD ["node", "--enable-source-maps", "dist/bridge-agent.js"]
