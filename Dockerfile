# One image for the issuer and the verifier, running the built JavaScript with node; the
# command picks the component (default: the issuer; `node verifier/dist/main.js` for a verifier).

# 1. Type-check and build with every dependency.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json tsconfig.json ./
COPY common/package.json common/
COPY client/package.json client/
COPY verifier/package.json verifier/
COPY issuer/package.json issuer/
# --ignore-scripts: the root `prepare` build needs the sources, copied below; better-sqlite3's
# native module is then built on its own.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY common common
COPY client client
COPY verifier verifier
COPY issuer issuer
COPY main.ts ./
RUN npm run build

# 2. Production dependencies only (no TypeScript, no tsx, no test tools).
FROM build AS prod-deps
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

# 3. What runs: node, the built packages and their production dependencies, as user node.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production AKM_HOST=0.0.0.0 AKM_DATA_DIR=/data
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist
COPY --from=build /app/common/package.json ./common/
COPY --from=build /app/common/dist ./common/dist
COPY --from=build /app/client/package.json ./client/
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/verifier/package.json ./verifier/
COPY --from=build /app/verifier/dist ./verifier/dist
COPY --from=build /app/issuer/package.json ./issuer/
COPY --from=build /app/issuer/bin ./issuer/bin
COPY --from=build /app/issuer/dist ./issuer/dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080 8081
# Exec form: node is the process that receives SIGTERM (compose adds an init as PID 1 with
# `init: true`), so the graceful shutdown runs: drain HTTP, flush the outbox, close NATS/Redis/SQLite.
CMD ["node", "issuer/dist/main.js"]
