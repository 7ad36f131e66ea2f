# Multi-stage image: the web app (trunk, wasm) and the API server (release) are built
# in one Rust stage; the runtime image holds only the binary and the built app.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY . .
RUN bash -c 'source scripts/lib/tools.sh && ensure_rust_tools && ensure_node_tools' \
 && PATH="/src/e2e/node_modules/.bin:$PATH" trunk build --release \
 && cargo build --release --locked -p hfb-backend

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data hfb && mkdir -p /data && chown hfb /data
COPY --from=build /src/target/release/hfb /usr/local/bin/hfb
COPY --from=build /src/dist /srv/hfb/dist
USER hfb
ENV HFB_BIND=0.0.0.0:3000 HFB_DATA_DIR=/data HFB_STATIC_DIR=/srv/hfb/dist HFB_LOG_FORMAT=json
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s CMD ["hfb", "healthcheck"]
CMD ["hfb", "serve"]
