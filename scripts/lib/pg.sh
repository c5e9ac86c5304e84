#!/usr/bin/env bash
# Shared helpers for scripts/test and scripts/run: a private PostgreSQL cluster.
#
# Source it:   . "$(dirname "$0")/lib/pg.sh"
#
#   pg_ensure_installed            installs the server + libpq headers when missing, exports PGBIN
#   pg_start_cluster DIR [PORT]    initdb (once) and start a cluster whose data lives in DIR/data,
#                                  socket in DIR/sock (or a short /tmp path when DIR is too deep),
#                                  log in DIR/postgres.log; exports PG_SOCKDIR, PG_PORT, PG_DATADIR
#   pg_stop_cluster DIR            pg_ctl -m fast stop (no-op when not running)
#   pg_psql DB PSQL-ARGS...        runs psql against the started cluster (ON_ERROR_STOP)
#   pg_create_db NAME              CREATE DATABASE NAME unless it exists
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

# Runs a PostgreSQL server binary as the unprivileged user when we are root.
_pg_run() {
    if [ -n "$PG_RUNAS" ]; then
        runuser -u "$PG_RUNAS" -- "$@"
    else
        "$@"
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

# A free TCP port on 127.0.0.1.
pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
        return 0
    fi
    local p _
    for _ in $(seq 1 200); do
        p=$(( 20000 + RANDOM % 30000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    pg_die "could not find a free TCP port"
}

# Socket directory for a cluster dir. A unix socket path is limited to ~107 bytes, so
# when DIR/sock/.s.PGSQL.NNNNN would be too long we use a short /tmp path derived from DIR.
pg_sockdir_for() {
    local dir="$1" s
    s="$dir/sock"
    if [ $(( ${#s} + 18 )) -gt 100 ]; then
        s="/tmp/telebot-pg-$(printf '%s' "$dir" | cksum | awk '{print $1}')"
    fi
    echo "$s"
}

# Writes the server settings into DATADIR/telebot.conf (included from postgresql.conf),
# so that they hold for every later `pg_ctl start/restart`, whatever the path's characters.
_pg_write_conf() {
    local datadir="$1" sockdir="$2" port="$3" q
    q="${sockdir//\'/\'\'}"
    _pg_run tee "$datadir/telebot.conf" >/dev/null <<EOF
# Written by scripts/lib/pg.sh: a private development/test cluster.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$q'
port = $port
max_connections = 1000
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if ! grep -q "^include_if_exists = 'telebot.conf'" "$datadir/postgresql.conf"; then
        printf "\ninclude_if_exists = 'telebot.conf'\n" | _pg_run tee -a "$datadir/postgresql.conf" >/dev/null
    fi
}

_pg_is_running() { _pg_run "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

# pg_start_cluster DIR [PORT]: PORT defaults to a free one (or the one already configured
# when the cluster is already running).
pg_start_cluster() {
    local dir="$1" port="${2:-}"
    [ -n "${PGBIN:-}" ] || pg_ensure_installed
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd -P)"
    local datadir="$dir/data" sockdir logfile="$dir/postgres.log"
    sockdir="$(pg_sockdir_for "$dir")"
    mkdir -p "$sockdir"
    if [ -n "$PG_RUNAS" ]; then
        chown "$PG_RUNAS:" "$dir" "$sockdir"
        [ -d "$datadir" ] && chown -R "$PG_RUNAS:" "$datadir"
        touch "$logfile" && chown "$PG_RUNAS:" "$logfile"
        chmod 755 "$dir" "$sockdir"
        runuser -u "$PG_RUNAS" -- test -w "$dir" \
            || pg_die "user $PG_RUNAS cannot reach $dir (a parent directory is not searchable); move the repo or set DATABASE_URL"
    fi

    if [ ! -s "$datadir/PG_VERSION" ]; then
        pg_log "initdb $datadir"
        _pg_run "$PGBIN/initdb" -D "$datadir" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; pg_die "initdb failed"; }
    fi

    if _pg_is_running "$datadir"; then
        port="$(awk -F'= *' '/^port *=/{print $2}' "$datadir/telebot.conf" 2>/dev/null | tail -1)"
        pg_log "already running on port $port, socket $sockdir"
    else
        local fixed="$port" try
        for try in 1 2 3; do
            [ -n "$fixed" ] || port="$(pg_free_port)"
            _pg_write_conf "$datadir" "$sockdir" "$port"
            if _pg_run "$PGBIN/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 start >/dev/null 2>&1; then
                break
            fi
            if [ -n "$fixed" ] || [ "$try" -eq 3 ]; then
                tail -n 30 "$logfile" >&2 || true
                pg_die "could not start PostgreSQL (data $datadir, port $port); log: $logfile"
            fi
            pg_log "start on port $port failed, retrying with another port"
        done
        pg_log "started on 127.0.0.1:$port, socket $sockdir"
    fi
    PG_DATADIR="$datadir"; PG_SOCKDIR="$sockdir"; PG_PORT="$port"
    export PG_DATADIR PG_SOCKDIR PG_PORT
}

pg_stop_cluster() {
    local dir="$1"
    [ -d "$dir/data" ] || return 0
    [ -n "${PGBIN:-}" ] || PGBIN="$(_pg_find_bin)"
    [ -n "$PGBIN" ] || return 0
    if _pg_is_running "$dir/data"; then
        if _pg_run "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; then
            pg_log "stopped cluster in $dir"
        else
            pg_log "warning: could not stop cluster in $dir"
        fi
    fi
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
