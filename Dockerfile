# firebridge: a multi-stage image. The build stage compiles with the full toolchain; the runtime stage holds only
# the built library, the production dependencies and Node, and runs as an unprivileged user.
# Base image pinned to an exact Node release (match `engines` in package.json); pin the digest too in your registry
# mirror (`node:20.20.2-bookworm-slim@sha256:...`) once you have pulled it.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches the platform: node-gyp's toolchain.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Exactly the lock. Scripts off (the sources are not here yet, so `prepare` cannot build); the one native addon is
# built explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    KEYS_DIR=/etc/firebridge/keys \
    DATA_DIR=/var/lib/firebridge
# The same numeric user as deploy/kubernetes/deployment.yaml (runAsUser 10001). Owns only its data folder.
RUN groupadd --system --gid 10001 firebridge \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin firebridge \
 && mkdir -p /var/lib/firebridge /etc/firebridge/keys \
 && chown 10001:10001 /var/lib/firebridge \
 && chmod 0700 /var/lib/firebridge
WORKDIR /app
# Root-owned and read-only for the user: the code cannot be changed by the process that runs it.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 8080
# Keys are never part of the image: mount the keyring read-only at KEYS_DIR (see compose.yaml).
VOLUME ["/var/lib/firebridge"]
# /healthz answers while the process serves; no curl in a slim image, so Node's own fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches node directly (exec form): in-flight requests finish before it exits.
CMD ["node", "dist/main.js"]
