#!/usr/bin/env bash
# scripts/bench-webhook's two short modes, each ending the run (sourced by it; they use its variables and functions).

# --capture-sql: serve with log_statement=all, one new and one duplicate event; prints the statements serve ran
# and checks Benchmarks/sql/webhook_*.sql against them (telebot_py.bench.webhook_sql). Exits.
capture_sql_mode() {
    pg_psql telebot_bench -c "ALTER DATABASE telebot_bench SET log_statement = 'all'" >/dev/null
    start_serve
    : >"$PGTMP/postgres.log.mark"
    LINE="$(wc -l <"$PGTMP/postgres.log")"
    "$BENCH" webhook --url "$BASE" --secret "$WHSEC" --concurrency 1 --requests 1 --warmup 0 --duplicates \
        --users "$USERS" --plan "$PLAN" --price "$PRICE"
    sleep 0.5
    echo "--- statements serve ran for one new invoice.paid event, then one duplicate (log_statement=all) ---"
    tail -n +"$((LINE + 1))" "$PGTMP/postgres.log" | grep -v -E 'health|SELECT 1$' | tee "$OUT/captured.log" | cut -c1-4000
    if command -v python3 >/dev/null 2>&1; then
        echo "--- the pgbench scripts against the captured statements (placeholders and whitespace aside) ---"
        PYTHONPATH="$ROOT/scripts" python3 -m telebot_py.bench.webhook_sql "$OUT/captured.log" \
            "$ROOT/Benchmarks/sql/webhook_invoice_paid.sql" "$ROOT/Benchmarks/sql/webhook_duplicate.sql"
    fi
    exit 0
}

# --layers: phases 1, 1b and 2 on new events only, and their summary. Exits.
layers_mode() {
    log "layers: webhook warm-up, then webhook, direct and pgbench on new events"
    "$BENCH" webhook "${WEBHOOK_ARGS[@]}" --concurrency "$CONCURRENCY" --requests "$WARMUP" --warmup 0 \
        >"$OUT/layers-warmup.out" 2>&1 || die "warm-up failed"
    measure webhook-new "$BENCH" webhook "${WEBHOOK_ARGS[@]}" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --warmup 0
    grep -E '^webhook' "$OUT/webhook-new.out" >&2
    direct_new
    run_pgbench pgbench-new webhook_invoice_paid.sql
    PG_TXNS="$(awk '/^number of transactions actually processed:/ {print $6; exit}' "$OUT/pgbench-new.out")"
    {
    echo
    printf '%-30s %10s   %s\n' "layer (new invoice.paid)" "per second" "CPU per event"
    printf '%-30s %10s   %s\n' "HTTP (serve), C=$CONCURRENCY" "$(field webhook-new rps)" "$(cpu_line webhook-new "$(field webhook-new requests)")"
    printf '%-30s %10s   %s\n' "direct (no HTTP), C=$CONCURRENCY" "$(field webhook-direct rps)" "$(cpu_line webhook-direct "$(field webhook-direct requests)")"
    printf '%-30s %10s   %s\n' "pgbench, c=$POOL" "$(pgbench_tps pgbench-new)" "$(cpu_line pgbench-new "$PG_TXNS")"
    echo "(direct: the 'client' column is the process running StripeWebhookProcessor)"
    echo "raw outputs and logs: $OUT"
    } | tee "$OUT/summary.txt"
    exit 0
}
