# Herald's headless daemon, `herald-cli serve`, in a small image: one process, no Node, no
# browser. Build: `docker build -t herald .`; run: see README, "Run Herald on a server".

# ---- build: only the herald-cli package (the desktop app and its WebKit stack are not built).
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p herald-cli \
 && strip target/release/herald-cli

# ---- run: Debian slim with the two libraries the binary links (libssl3 for SQLCipher) and
# curl for the health check.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin herald \
 && mkdir /data && chown herald:herald /data && chmod 700 /data
COPY --from=build /src/target/release/herald-cli /usr/local/bin/herald-cli
USER herald
# The session, the schedules, the history and the API keys' digests live here.
VOLUME /data
# No keychain in a container: the store key comes from HERALD_STORE_KEY_FILE (a mounted
# secret) or, failing that, an owner-only file on the volume.
ENV HERALD_DATA_DIR=/data \
    HERALD_LISTEN=0.0.0.0:8080 \
    HERALD_KEYCHAIN=off \
    RUST_LOG=info
EXPOSE 8080
# Liveness only: a logout or a replaced session is not fixed by restarting the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health >/dev/null || exit 1
# Listening beyond loopback needs an API key first: `docker run … herald-cli api-key create`.
ENTRYPOINT ["herald-cli"]
CMD ["serve"]
