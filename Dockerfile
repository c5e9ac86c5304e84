# telebot: multi-stage image.
#   builder  Swift toolchain + libpq/OpenSSL headers; builds the release binary. The compose
#            `tests` service also uses this stage to run the test suite.
#   runtime  debian:bookworm-slim with libpq5, the binary, sql/ and plans.example.json.
# The dependencies declare swift-tools-version 6.2, so the toolchain must be 6.2 or newer.
ARG SWIFT_IMAGE=swift:6.2-bookworm

FROM ${SWIFT_IMAGE} AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq-dev libssl-dev pkg-config postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
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
ENTRYPOINT ["telebot"]
CMD ["serve"]
