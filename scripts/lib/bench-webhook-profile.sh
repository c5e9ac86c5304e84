#!/usr/bin/env bash
# scripts/bench-webhook's phase 7 (--profile S), sourced by it: perf record -g of serve during S seconds of webhook
# load, perf reports in $OUT/perf-*.txt and the breakdown by component (telebot_py.bench.perf_breakdown).
profile_phase() {
    command -v perf >/dev/null 2>&1 || die "perf not found (Debian: apt-get install linux-perf)"
    log "profile: perf record -g on serve during $PROFILE s of webhook load at C=$CONCURRENCY"
    perf record -F 499 -g -o "$OUT/perf.data" -p "$SERVE_PID" -- sleep "$((PROFILE + 1))" >"$OUT/perf-record.log" 2>&1 &
    PERF_PID=$!
    sleep 0.5
    measure profile "$BENCH" webhook "${WEBHOOK_ARGS[@]}" --concurrency "$CONCURRENCY" --warmup 0 --soak "$PROFILE"
    wait "$PERF_PID" || true
    perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
        | swift demangle --simplified >"$OUT/perf-self.txt" || true
    perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null \
        | swift demangle --simplified >"$OUT/perf-children.txt" || true
    perf script -i "$OUT/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | swift demangle --simplified >"$OUT/perf-script.txt" || true
    PROFILE_EVENTS="$(field profile requests)"
    SERVE_US="$(awk -v n="$PROFILE_EVENTS" '{ if (n > 0) printf "%.0f", 1e6 * $2 / n }' "$OUT/profile.cpu")"
    if command -v python3 >/dev/null 2>&1; then
        PYTHONPATH="$ROOT/scripts" python3 -m telebot_py.bench.perf_breakdown "$OUT/perf-script.txt" "${SERVE_US:-0}" \
            >"$OUT/perf-breakdown.txt"
    fi
    log "profile: $OUT/perf-breakdown.txt (by component), perf-self.txt, perf-children.txt"
}
