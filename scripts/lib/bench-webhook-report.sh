#!/usr/bin/env bash
# scripts/bench-webhook's final report (sourced by it): the phases' rates, latencies and CPU per operation from
# $OUT/*.out and $OUT/*.cpu, printed and kept in $OUT/summary.txt.
webhook_report() {
    NEW_RPS="$(field webhook-new rps)"
    PG_TPS="$(pgbench_tps pgbench-new)"
    DUP_RPS="$(sed -n 's/.*mode=duplicate .* rps=\([^ ]*\).*/\1/p' "$OUT/webhook-c$CONCURRENCY.out")"
    PG_DUP_TPS="$(pgbench_tps pgbench-duplicate)"
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
    line_of() { grep -E "mode=$2 " "$OUT/$1.out" | tail -1; }
    pct() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
    NEW_LINE="$(line_of webhook-c"$CONCURRENCY" new)"
    DUP_LINE="$(line_of webhook-c"$CONCURRENCY" duplicate)"
    C2_LINE="$(line_of webhook-c"$P99_CONCURRENCY" new)"
    PG_TXNS="$(awk '/^number of transactions actually processed:/ {print $6; exit}' "$OUT/pgbench-new.out")"
    PG_DUP_TXNS="$(awk '/^number of transactions actually processed:/ {print $6; exit}' "$OUT/pgbench-duplicate.out")"

    {
    echo
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), PostgreSQL $PG_VERSION (fsync off), $CONFIG build"
    echo "serve: DB_POOL_SIZE=$POOL, LOG_LEVEL=info; $USERS seeded users; events are renewals (existing entitlement)"
    echo
    printf '%-44s %12s %10s %10s\n' "phase" "per second" "p50 ms" "p99 ms"
    printf '%-44s %12s %10s %10s\n' "webhook invoice.paid new, C=$CONCURRENCY" "$(pct "$NEW_LINE" rps)" "$(pct "$NEW_LINE" p50_ms)" "$(pct "$NEW_LINE" p99_ms)"
    printf '%-44s %12s %10s %10s\n' "webhook invoice.paid new, C=$CONCURRENCY (rerun)" "$NEW_RPS" "$(field webhook-new p50_ms)" "$(field webhook-new p99_ms)"
    printf '%-44s %12s %10s %10s\n' "pgbench same SQL new event, c=$POOL" "$PG_TPS" "avg $(pgbench_lat pgbench-new)" "-"
    printf '%-44s %12s\n' "ratio server/pgbench (new event)" "$(ratio "$NEW_RPS" "$PG_TPS")"
    printf '%-44s %12s %10s %10s\n' "direct, no HTTP: new event, C=$CONCURRENCY" "$(field webhook-direct rps)" "$(field webhook-direct p50_ms)" "$(field webhook-direct p99_ms)"
    printf '%-44s %12s %10s %10s\n' "webhook duplicate event, C=$CONCURRENCY" "$DUP_RPS" "$(pct "$DUP_LINE" p50_ms)" "$(pct "$DUP_LINE" p99_ms)"
    printf '%-44s %12s %10s %10s\n' "pgbench same SQL duplicate, c=$POOL" "$PG_DUP_TPS" "avg $(pgbench_lat pgbench-duplicate)" "-"
    printf '%-44s %12s\n' "ratio server/pgbench (duplicate)" "$(ratio "$DUP_RPS" "$PG_DUP_TPS")"
    printf '%-44s %12s %10s %10s\n' "webhook invoice.paid new, C=$P99_CONCURRENCY" "$(pct "$C2_LINE" rps)" "$(pct "$C2_LINE" p50_ms)" "$(pct "$C2_LINE" p99_ms)"
    if [ "$AUTH_REQUESTS" -gt 0 ]; then
        AUTH_LINE="$(line_of auth exchange)"
        printf '%-44s %12s %10s %10s\n' "Mini App auth exchanges, C=$CONCURRENCY" "$(pct "$AUTH_LINE" rps)" "$(pct "$AUTH_LINE" p50_ms)" "$(pct "$AUTH_LINE" p99_ms)"
    fi
    if [ -n "$CLICKS" ]; then
        grep -E 'clicks|ratio' "$OUT/clicks.out" | sed 's/^/clicks: /'
    fi
    echo
    echo "CPU per operation (where the 2 cores go):"
    echo "  webhook new   $(cpu_line webhook-new "$(pct "$(line_of webhook-new new)" requests)")"
    echo "  webhook dup   $(cpu_line webhook-dup "$(pct "$(line_of webhook-dup new)" requests)")"
    echo "  direct new    $(cpu_line webhook-direct "$(field webhook-direct requests)")  (client = the processor)"
    echo "  pgbench new   $(cpu_line pgbench-new "$PG_TXNS")"
    echo "  pgbench dup   $(cpu_line pgbench-duplicate "$PG_DUP_TXNS")"
    if [ "$AUTH_REQUESTS" -gt 0 ]; then
        echo "  auth          $(cpu_line auth "$(pct "$(line_of auth exchange)" requests)")"
    fi
    echo
    echo "StripeEvent decoding, one thread, microseconds per invoice.paid body (telebot-bench webhook-decode):"
    sed -n 's/^webhook-decode variant="\(.*\)" us_per_event=\(.*\)/  \2  \1/p' "$OUT/decode.out"
    if [ "$SOAK" -gt 0 ]; then
        echo
        grep -E '^webhook (rss|soak)|mode=soak' "$OUT/soak.out"
    fi
    if [ "$PROFILE" -gt 0 ] && [ -s "$OUT/perf-breakdown.txt" ]; then
        echo
        echo "serve CPU by component under perf ($(field profile requests) events in $PROFILE s, serve CPU per event from /proc):"
        sed 's/^/  /' "$OUT/perf-breakdown.txt"
    fi
    echo
    echo "raw outputs and logs: $OUT"
    } | tee "$OUT/summary.txt"
}
