# telebot: multi-stage image.
#   dev      Swift toolchain + libpq/OpenSSL headers + psql, the package dependencies resolved, the sources in
#            /src; nothing compiled. The compose `tests` service uses this stage (`target: dev`) and runs
#            scripts/test, which makes its own debug build, so no release binary is compiled for it.
#   builder  dev + the release build of `telebot`.
#   runtime  debian:bookworm-slim with libpq5, the binary, sql/ and plans.example.json (the default target).
# The dependencies declare swift-tools-version 6.2, so the toolchain must be 6.2 or newer.
ARG SWIFT_IMAGE=swift:6.2-bookworm

FROM ${SWIFT_IMAGE} AS dev
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq-dev libssl-dev pkg-config postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first: fetching the dependencies is cached until Package.swift changes, not redone on every source
# edit (`swift package resolve` needs only the manifest). Package.resolved is not part of the repository and is
# kept out of the build context (.dockerignore); the direct dependencies are pinned exactly in Package.swift.
COPY Package.swift ./
RUN swift package resolve
COPY . .

FROM dev AS builder
RUN swift build -c release --product telebot --static-swift-stdlib \
 && mkdir -p /out \
 && BIN="$(swift build -c release --show-bin-path)" \
 && cp "$BIN/telebot" /out/ \
 && find -L "$BIN" -maxdepth 1 -name '*.resources' -exec cp -R {} /out/ \;

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq5 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin telebot
WORKDIR /app
# The binary and its resource bundles (the Mini App page) sit side by side.
COPY --from=builder /out/ /app/
COPY sql/ /app/sql/
COPY plans.example.json /app/plans.example.json
ENV PATH="/app:${PATH}" \
    HOST=0.0.0.0 \
    PORT=8080 \
    MIGRATIONS_DIR=/app/sql
USER telebot
EXPOSE 8080
# No HEALTHCHECK here: the same image runs one-shot commands (`migrate up`). A container running `serve` can use
# `telebot probe` (GET http://127.0.0.1:$PORT/health/ready, exit 0 on 200), as docker-compose.yml does.
ENTRYPOINT ["telebot"]
CMD ["serve"]
