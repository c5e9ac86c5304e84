#!/usr/bin/env bash
# Shared helpers for scripts/test, scripts/run, scripts/drill, the benchmarks and scripts/fuzz: a private
# PostgreSQL cluster.
#
# Source it:   . "$(dirname "$0")/lib/pg.sh"
#
#   pg_ensure_installed            installs the server + libpq headers when missing, exports PGBIN
#   pg_start_cluster DIR [PORT]    initdb (once) and start a cluster whose data lives in DIR/data,
#                                  socket in DIR/sock (or a short /tmp path when DIR is too deep),
#                                  log in DIR/postgres.log; exports PG_SOCKDIR, PG_PORT, PG_DATADIR
#   pg_stop_cluster DIR            pg_ctl -m fast stop (no-op when not running)
#   pg_free_port                   a free TCP port on 127.0.0.1
#   pg_psql DB PSQL-ARGS...        runs psql against the started cluster (ON_ERROR_STOP)
#   pg_create_db NAME              CREATE DATABASE NAME unless it exists
#
# Installation and psql are shell here; the cluster's lifecycle (initdb, settings, start, stop) is
# scripts/telebot_py/cluster, run as `python3 -m telebot_py.cluster` (python3 is required): the functions above
# are thin wrappers around it, and the Swift tests' PrivateCluster runs the same command.
#
# The cluster trusts local connections (auth=trust), listens on its unix socket and on
# 127.0.0.1:PORT only, and runs with fsync off: it is for development and tests, never
# for data you want to keep.
#
# PostgreSQL refuses to run as root. When we are root, every server binary runs as the
# `postgres` system user (created when missing) via runuser, and the directories are
# chowned to it. PG_RUNAS is "postgres" then, empty otherwise.
set -euo pipefail

pg_log() { printf '[pg] %s\n' "$*" >&2; }
pg_die() { printf '[pg] error: %s\n' "$*" >&2; exit 1; }

PG_RUNAS=""
if [ "$(id -u)" -eq 0 ]; then PG_RUNAS="postgres"; fi
export PG_RUNAS

# Runs a command as root: directly when we are root, through sudo otherwise.
_pg_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        pg_die "need root (or sudo) to run: $*"
    fi
}

# Echoes a directory holding initdb, pg_ctl and postgres, or nothing.
_pg_find_bin() {
    local cand dir
    if cand="$(command -v initdb 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$cand")")"
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"; return 0
        fi
    fi
    # Debian/Ubuntu keep the server outside PATH; take the newest major version.
    # shellcheck disable=SC2012  # fixed, well-formed paths
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"; return 0
        fi
    done
    return 0
}

_PG_APT_UPDATED=""
_pg_apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || pg_die "apt-get not found: install $* with your package manager"
    if [ -z "$_PG_APT_UPDATED" ]; then
        pg_log "apt-get update"
        _pg_as_root apt-get update -q >/dev/null
        _PG_APT_UPDATED=1
    fi
    pg_log "apt-get install -y $*"
    _pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

pg_ensure_installed() {
    PGBIN="$(_pg_find_bin)"
    if [ -z "$PGBIN" ]; then
        pg_log "PostgreSQL server binaries not found; installing them"
        _pg_apt_install postgresql postgresql-contrib libpq-dev
        PGBIN="$(_pg_find_bin)"
        [ -n "$PGBIN" ] || pg_die "installed postgresql but still cannot find initdb"
    fi
    # Headers and tools the Swift build needs (CLibPQ uses pkg-config libpq).
    if command -v dpkg >/dev/null 2>&1; then
        local missing=() p
        for p in libpq-dev libssl-dev pkg-config; do
            dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
        done
        if [ "${#missing[@]}" -gt 0 ]; then _pg_apt_install "${missing[@]}"; fi
    fi
    if [ -n "$PG_RUNAS" ]; then
        command -v runuser >/dev/null 2>&1 || pg_die "running as root but runuser is missing (util-linux)"
        if ! id -u "$PG_RUNAS" >/dev/null 2>&1; then
            pg_log "creating system user $PG_RUNAS"
            useradd --system --no-create-home "$PG_RUNAS"
        fi
    fi
    export PGBIN
    pg_log "using PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') from $PGBIN"
}

# Runs the cluster controller, scripts/telebot_py/cluster (see its docstring): the one place that runs initdb and
# pg_ctl for the project's throwaway clusters (scripts/*, the Swift tests' PrivateCluster, the drill).
_PG_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
_pg_cluster() {
    command -v python3 >/dev/null 2>&1 || pg_die "python3 is required (scripts/telebot_py/cluster controls the cluster)"
    PYTHONPATH="$_PG_SCRIPTS" python3 -m telebot_py.cluster "$@"
}

# A free TCP port on 127.0.0.1.
pg_free_port() { _pg_cluster free-port; }

# Socket directory for a cluster dir: DIR/sock, or a short /tmp path derived from DIR when
# DIR/sock/.s.PGSQL.NNNNN would pass the unix socket path limit (~107 bytes).
pg_sockdir_for() { _pg_cluster sockdir "$1"; }

# pg_start_cluster DIR [PORT]: PORT defaults to a free one (or the one already configured
# when the cluster is already running).
pg_start_cluster() {
    local dir="$1" port="${2:-}" out
    local -a fixed=()
    [ -z "$port" ] || fixed=(--port "$port")
    [ -n "${PGBIN:-}" ] || pg_ensure_installed
    out="$(_pg_cluster start "$dir" ${fixed[@]+"${fixed[@]}"} --pgbin "$PGBIN" --runas "$PG_RUNAS")" || exit 1
    # Three shell-quoted assignments: PG_DATADIR, PG_SOCKDIR, PG_PORT.
    eval "$out"
    export PG_DATADIR PG_SOCKDIR PG_PORT
}

# pg_stop_cluster DIR: pg_ctl -m fast stop; a no-op when not running, never fails.
pg_stop_cluster() {
    local dir="$1"
    [ -d "$dir/data" ] || return 0
    [ -n "${PGBIN:-}" ] || PGBIN="$(_pg_find_bin)"
    [ -n "$PGBIN" ] || return 0
    command -v python3 >/dev/null 2>&1 || { pg_log "warning: python3 is missing; cannot stop the cluster in $dir"; return 0; }
    _pg_cluster stop "$dir" --pgbin "$PGBIN" --runas "$PG_RUNAS" || true
    return 0
}

_pg_psql_bin() {
    if [ -x "${PGBIN:-}/psql" ]; then echo "$PGBIN/psql"; else command -v psql || pg_die "psql not found"; fi
}

# pg_psql DB PSQL-ARGS...: connects to PG_SOCKDIR (a socket dir or a host name) : PG_PORT
# as PG_USER (default postgres), as set by pg_start_cluster.
pg_psql() {
    local db="$1"; shift
    "$(_pg_psql_bin)" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U "${PG_USER:-postgres}" -d "$db" "$@"
}

# pg_create_db NAME: creates it unless it exists (uses PG_SOCKDIR / PG_PORT / PG_USER).
pg_create_db() {
    local name="$1"
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || pg_die "bad database name: $name"
    if [ "$(pg_psql postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" != "1" ]; then
        pg_psql postgres -c "CREATE DATABASE \"$name\""
        pg_log "created database $name"
    fi
}
