# syntax=docker/dockerfile:1
# One image for the bot and the workers (docs/deploy.md): the command picks the role.
#   docker run ... lbcheck serve                  the bot side
#   docker run ... lbcheck worker --zone dc1      a probe worker (see its capabilities below)
# test/deploy/image-steps.test.ts runs this file's runtime COPY and npm steps in a fresh directory.

ARG NODE_VERSION=22

# ---- build: compile dist/ with the dev dependencies (TypeScript, esbuild) ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY adapters ./adapters
COPY workers ./workers
COPY test ./test
COPY assets ./assets
# npm ci runs `prepare`: tsc, then the ssh2 client bundle and its V8 code cache, recorded by this Node. The
# runtime stage uses the same base image, so the cache is accepted there (another Node would reject it, and
# ssh2 would still load, only slower).
RUN npm ci --no-audit --no-fund

# ---- runtime: production dependencies and the compiled code only ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tcpdump for the worker's own capture at the vantage point. The file capabilities let the non-root user run
# it when the container is given CAP_NET_RAW and CAP_NET_ADMIN (compose.yaml: cap_add); without them the
# worker still runs its checks, and says that it could not capture here (or set LBCHECK_LOCAL_CAPTURE=0).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tcpdump libcap2-bin \
    && setcap cap_net_raw,cap_net_admin=eip /usr/bin/tcpdump \
    && apt-get purge -y libcap2-bin \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/lbcheck --create-home --shell /usr/sbin/nologin lbcheck
WORKDIR /opt/lbcheck
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build, and the build tools are dev dependencies (dist/ comes from the
# build stage). It also skips ssh2's optional native crypto, which ssh2 replaces with Node's own.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/adapters ./dist/adapters
COPY --from=build /src/dist/workers ./dist/workers
COPY --from=build /src/dist/vendor ./dist/vendor
COPY assets ./assets
COPY adapters/slack/manifest.yaml ./adapters/slack/manifest.yaml
COPY adapters/teams/manifest ./adapters/teams/manifest
RUN ln -s /opt/lbcheck/dist/adapters/lbcheck.js /usr/local/bin/lbcheck

# What must persist: the bot's audit log and evidence archive (docs/deploy.md). The inventory, SSH keys and
# known_hosts are mounted read-only under /etc/lbcheck.
ENV LBCHECK_AUDIT_DIR=/var/lib/lbcheck/data \
    LBCHECK_EVIDENCE_DIR=/var/lib/lbcheck/evidence \
    LBCHECK_LOG=stderr \
    NODE_ENV=production
RUN install -d -o lbcheck -g lbcheck /var/lib/lbcheck/data /var/lib/lbcheck/data/evidence /var/lib/lbcheck/evidence
VOLUME ["/var/lib/lbcheck/data", "/var/lib/lbcheck/data/evidence"]
USER lbcheck
# Slack (HTTP mode), Teams, and the ops port; the ops port listens on 127.0.0.1 unless LBCHECK_METRICS_HOST is set.
EXPOSE 3000 3978 9464
ENTRYPOINT ["lbcheck"]
CMD ["serve"]
