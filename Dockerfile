# syntax=docker/dockerfile:1
# webhook-bridge container image: build on Debian 12 with the -dev packages, run on Debian 12
# with only the shared libraries the binary links (see `ldd webhook-bridge` / `dpkg -S`).
#   docker build -t webhook-bridge .
#   docker run --rm -v $PWD/deploy:/etc/webhook-bridge:ro -p 8080:8080 -p 9090:9090 webhook-bridge

# ---------------------------------------------------------------- build stage
FROM debian:12-slim AS build
# The same list as .ci/deps (build + run dependencies).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev \
      libavro-dev libmicrohttpd-dev libjq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target webhook-bridge \
 && install -D -m 0755 /build/webhook-bridge /out/usr/local/bin/webhook-bridge \
 && strip /out/usr/local/bin/webhook-bridge \
 && mkdir -p /out/usr/share/webhook-bridge \
 && if [ -d schemas ]; then cp -r schemas /out/usr/share/webhook-bridge/schemas; fi

# -------------------------------------------------------------- runtime stage
FROM debian:12-slim
# Runtime libraries only: librdkafka, libcurl (OpenSSL flavour), OpenSSL, jansson, libyaml,
# avro-c, libmicrohttpd, libjq (+ libonig); ca-certificates for HTTPS to partners and TLS to
# Kafka. The jq sandbox worker is this same binary (`webhook-bridge jq-worker`): nothing more.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libcurl4 libssl3 libjansson4 libyaml-0-2 libavro23 libmicrohttpd12 libjq1 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Fixed non-root uid/gid so Kubernetes runAsNonRoot / runAsUser 10001 line up.
RUN groupadd --gid 10001 bridge \
 && useradd --uid 10001 --gid bridge --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin bridge \
 && mkdir -p /etc/webhook-bridge/connectors /etc/webhook-bridge/secrets
# Binary, plus the Avro schemas of the domain events (set schema_registry.dir to
# /usr/share/webhook-bridge/schemas to use them without a registry).
COPY --from=build /out/ /
USER 10001:10001
# 8080 inbound webhooks (inbound.listen), 9090 admin: /metrics /healthz /readyz (admin.listen)
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/webhook-bridge"]
CMD ["run", "-c", "/etc/webhook-bridge/bridge.yaml"]
