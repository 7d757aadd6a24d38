# syntax=docker/dockerfile:1
# Arena Relay server. Build from the repository root:
#   docker build -f docker/relay.Dockerfile -t arena-relay/relay .
# Configuration is environment only (see README "Running a relay"); no secret is baked in.

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

# --- deps: production node_modules only. better-sqlite3 is native: this stage has the compiler
# (python3, make, g++) its install may need, and the same Node 20 ABI as the runtime below. -----
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY relay/package.json relay/
COPY bridge-agent/package.json bridge-agent/
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: slim Debian, plain node, non-root -------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
# relay.js, the dashboard's files and arena-agent.mjs (for client packages) sit side by side.
COPY --from=build /src/dist dist
COPY docker/healthcheck.mjs docker/
# The embedded store (used when REDIS_URL is unset) lives in /data: mount a volume there.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "docker/healthcheck.mjs", "relay"]
CMD ["node", "--enable-source-maps", "dist/relay.js"]
