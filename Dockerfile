# herold in a container: built in one stage, run in a small one as a non-root user, with its data in
# a volume and the master key from a secret file. `docker compose up` with compose.yaml runs it.
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin herold

FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin herold \
 && install -d -o herold -g herold -m 0700 /data
COPY --from=build /src/target/release/herold /usr/local/bin/herold
USER herold
WORKDIR /data
VOLUME /data
ENV HEROLD_DATA_DIR=/data \
    HEROLD_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["herold", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["herold"]
CMD ["serve"]
