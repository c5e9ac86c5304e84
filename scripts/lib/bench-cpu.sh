#!/usr/bin/env bash
# CPU accounting for the benchmarks (sourced by scripts/bench-webhook after serve has started): how much CPU serve,
# the PostgreSQL backends, the load generator and the whole machine used while a phase ran, and the parsers of the
# phases' outputs. Uses the caller's OUT (output directory), SERVE_PID, PG_DATADIR (scripts/lib/pg.sh) and die.
#
#   measure LABEL CMD...     runs CMD (output to $OUT/LABEL.out), writes $OUT/LABEL.cpu
#   cpu_line LABEL OPS       CPU per operation, from $OUT/LABEL.cpu
#   field LABEL KEY          the last KEY=value in $OUT/LABEL.out
#   pgbench_tps / pgbench_lat LABEL

# --- CPU accounting ----------------------------------------------------------------------------
TCK="$(getconf CLK_TCK)"
ticks_of() { # ticks_of PID: utime+stime+cutime+cstime of one process (0 when gone)
    [ -r "/proc/$1/stat" ] || { echo 0; return; }
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'
}
pg_ticks() { # every backend of our cluster, plus what the postmaster reaped from exited ones
    local pm total pid
    pm="$(head -1 "$PG_DATADIR/postmaster.pid")"
    total="$(ticks_of "$pm")"
    for pid in $(ps -o pid= --ppid "$pm"); do total=$((total + $(ticks_of "$pid"))); done
    echo "$total"
}
machine_ticks() { awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6}' /proc/stat; }

# measure LABEL CMD...: runs CMD (output to $OUT/LABEL.out) and writes $OUT/LABEL.cpu:
#   wall_s serve_cpu_s pg_cpu_s client_cpu_s machine_busy_cores machine_cores
measure() {
    local label="$1"; shift
    local s0 p0 m0 t0 s1 p1 m1 t1 w0 w1 client
    s0="$(ticks_of "$SERVE_PID")"; p0="$(pg_ticks)"; read -r m0 t0 < <(machine_ticks); w0="$(date +%s.%N)"
    # The subshell reaps CMD, so its own cutime/cstime afterwards is the client's CPU.
    client="$( ( "$@" >"$OUT/$label.out" 2>"$OUT/$label.err"; rc=$?; me=$BASHPID; echo "$(ticks_of "$me") $rc" ) )"
    w1="$(date +%s.%N)"; s1="$(ticks_of "$SERVE_PID")"; p1="$(pg_ticks)"; read -r m1 t1 < <(machine_ticks)
    [ "${client#* }" = 0 ] || { cat "$OUT/$label.out" "$OUT/$label.err" >&2; die "$label failed"; }
    awk -v w0="$w0" -v w1="$w1" -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v c="${client% *}" -v m="$((m1 - m0))" \
        -v t="$((t1 - t0))" -v tck="$TCK" -v n="$(nproc)" \
        'BEGIN { w = w1 - w0; printf "%.2f %.2f %.2f %.2f %.2f %d\n", w, s / tck, p / tck, c / tck, (t > 0 ? n * m / t : 0), n }' \
        >"$OUT/$label.cpu"
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$OUT/$1.out" | tail -1; }
pgbench_tps() { awk '/^tps = / {printf "%.1f", $3; exit}' "$OUT/$1.out"; }
pgbench_lat() { awk '/^latency average = / {print $4; exit}' "$OUT/$1.out"; }
# cpu_line LABEL OPS: CPU per operation in microseconds, from LABEL.cpu and an operation count.
cpu_line() {
    awk -v ops="$2" '{ if (ops > 0) printf "serve %4.0f us  postgres %4.0f us  client %4.0f us per op; busy %.2f of %d cores, %.2f of them other processes", \
        1e6 * $2 / ops, 1e6 * $3 / ops, 1e6 * $4 / ops, $5, $6, $5 - ($2 + $3 + $4) / $1 }' "$OUT/$1.cpu"
}
