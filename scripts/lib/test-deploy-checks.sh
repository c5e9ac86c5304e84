#!/usr/bin/env bash
# shellcheck disable=SC2034  # the *_STATUS and *_RC variables are read by scripts/test
# scripts/test's checks of the deployment files, sourced by it: they never end the run, they set a status for the
# summary line and an exit code (COMPOSE_*, PROMTOOL_*, DASHBOARD_* _STATUS and _RC). Uses the caller's log and
# scripts/lib/pg.sh's _pg_apt_install; run from the repository root.
#
#   compose_check      docker compose config -q on docker-compose.yml
#   promtool_check     promtool check config / check rules / test rules on deploy/prometheus
#   dashboard_check    scripts/check-dashboard on deploy/grafana/dashboards (after promtool_check)

# --- compose file check (never fails for lack of docker) -------------------------------
COMPOSE_STATUS="skipped"
COMPOSE_RC=0
compose_check() {
    if [ ! -f docker-compose.yml ]; then COMPOSE_STATUS="skipped (no docker-compose.yml)"; return 0; fi
    local cmd=() out
    if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
        cmd=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
        cmd=(docker-compose)
    else
        log "compose check skipped: neither 'docker compose' nor 'docker-compose' is available"
        COMPOSE_STATUS="skipped (no compose)"
        return 0
    fi
    if out="$("${cmd[@]}" -f docker-compose.yml config -q 2>&1)"; then
        COMPOSE_STATUS="ok"
        log "docker-compose.yml is valid (${cmd[*]} config -q)"
    else
        printf '%s\n' "$out" >&2
        log "docker-compose.yml is INVALID (${cmd[*]} config -q)"
        COMPOSE_STATUS="invalid"
        COMPOSE_RC=1
    fi
}

# --- Prometheus config and alert rules check (deploy/prometheus) ----------------------------
# `promtool check config`, `check rules` and `test rules` (alerts_test.yml). promtool comes with the Debian/Ubuntu
# package `prometheus`; when it is missing, scripts/test installs it with apt-get if it runs as root, or with
# CI=true (through sudo). Invalid rules or failing rule tests fail scripts/test; a promtool that is missing and
# cannot be installed is a skip, with the reason in the summary line.
PROMTOOL_STATUS="skipped"
PROMTOOL_RC=0
promtool_check() {
    local dir="deploy/prometheus" out failed=()
    if [ ! -f "$dir/alerts.yml" ]; then PROMTOOL_STATUS="skipped (no $dir/alerts.yml)"; return 0; fi
    if ! command -v promtool >/dev/null 2>&1; then
        local why=""
        if ! command -v apt-get >/dev/null 2>&1; then
            why="promtool is missing and apt-get is not available"
        elif [ "${CI:-}" != "true" ] && [ "$(id -u)" -ne 0 ]; then
            why="promtool is missing; apt-get install prometheus, or run as root or with CI=true to install it"
        elif [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
            why="promtool is missing and installing it needs root or sudo"
        else
            log "promtool not found; installing the Debian package 'prometheus' (it ships promtool)"
            if ! _pg_apt_install --no-install-recommends prometheus || ! command -v promtool >/dev/null 2>&1; then
                why="apt-get could not install the prometheus package, which ships promtool"
            fi
        fi
        if [ -n "$why" ]; then
            log "promtool check skipped: $why"
            PROMTOOL_STATUS="skipped ($why)"
            return 0
        fi
    fi
    # Paths inside prometheus.yml (rule_files) and alerts_test.yml are relative to those files.
    local -a steps=("check rules $dir/alerts.yml")
    [ ! -f "$dir/prometheus.yml" ] || steps=("check config $dir/prometheus.yml" "${steps[@]}")
    [ ! -f "$dir/alerts_test.yml" ] || steps+=("test rules $dir/alerts_test.yml")
    local step
    for step in "${steps[@]}"; do
        # shellcheck disable=SC2086  # "check rules PATH": subcommand words and a path without spaces
        if out="$(promtool $step 2>&1)"; then
            log "promtool $step: ok"
        else
            printf '%s\n' "$out" >&2
            log "promtool $step: FAILED"
            failed+=("$step")
        fi
    done
    if [ "${#failed[@]}" -eq 0 ]; then
        PROMTOOL_STATUS="ok"
    else
        local joined
        joined="$(printf '%s, ' "${failed[@]}")"
        PROMTOOL_STATUS="FAILED (promtool ${joined%, })"
        PROMTOOL_RC=1
    fi
}

# --- Grafana dashboard check (deploy/grafana/dashboards) ------------------------------------------------------------
# scripts/check-dashboard: every panel's PromQL parses (promtool) and names only metrics /metrics exports
# (docs/metrics.md). Needs the promtool found or installed above; without it, a skip.
DASHBOARD_STATUS="skipped (no deploy/grafana/dashboards)"
DASHBOARD_RC=0
dashboard_check() {
    if [ -x scripts/check-dashboard ] && compgen -G "deploy/grafana/dashboards/*.json" >/dev/null; then
        if ! command -v promtool >/dev/null 2>&1; then
            DASHBOARD_STATUS="skipped (promtool is missing)"
        elif ! command -v python3 >/dev/null 2>&1; then
            DASHBOARD_STATUS="skipped (python3 is missing)"
        elif DASHBOARD_OUT="$(scripts/check-dashboard 2>&1)"; then
            printf '%s\n' "$DASHBOARD_OUT" >&2
            DASHBOARD_STATUS="ok"
        else
            printf '%s\n' "$DASHBOARD_OUT" >&2
            DASHBOARD_STATUS="FAILED (scripts/check-dashboard)"
            DASHBOARD_RC=1
        fi
    fi
}
