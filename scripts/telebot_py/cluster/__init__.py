"""The one controller of the project's throwaway PostgreSQL clusters (development, tests, drills, benchmarks).

Layout of a cluster directory DIR: data in DIR/data, socket in DIR/sock (or /tmp/telebot-pg-<cksum of DIR> when
DIR/sock/.s.PGSQL.NNNNN would pass the ~107-byte unix socket limit), log DIR/postgres.log, initdb's output in
DIR/initdb.log. The server settings live in DIR/data/telebot.conf, included from postgresql.conf, so every later
start or restart keeps them: auth trust, 127.0.0.1 (or the socket only), fsync off. Never for data you want to keep.
PostgreSQL refuses to run as root: when we are root, the binaries run as --runas ("postgres" by default) through
runuser, and the directories are chowned to that user.

Command line (PYTHONPATH=scripts python3 -m telebot_py.cluster ...; exit 0, 1 on failure, 2 on bad usage; progress
and errors on stderr as "[pg] ..."):

    start DIR [--port P] [--sockdir S] [--socket-only]   initdb (once) and start; without --port a free port, tried
                                                         three times; already running: reports it as it is
    restart DIR                                          pg_ctl restart -m fast (same port, socket and settings)
    stop DIR [--mode fast|immediate]                     no-op when there is no cluster or it is not running
    destroy DIR                                          immediate stop, then removes DIR (and its /tmp socket dir)
    sockdir DIR | free-port                              print the socket directory for DIR / a free TCP port

    every command also takes --pgbin DIR (default: PATH, then the newest /usr/lib/postgresql/N/bin) and
    --runas USER (default: "postgres" when root, else none; "" for none).

start and restart print PG_DATADIR=..., PG_SOCKDIR=..., PG_PORT=... on stdout, shell-quoted: scripts/lib/pg.sh's
pg_start_cluster evals them. Tests/TestSupport/PrivateCluster.swift and scripts/drill (telebot_py.drill, through
Cluster.attach) use this module too.
"""
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "1000",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
INCLUDE = "include_if_exists = 'telebot.conf'"


class ClusterError(RuntimeError):
    pass


def log(message):
    print("[pg] " + message, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def find_pgbin():
    """A directory holding initdb, pg_ctl and postgres (PATH first, then Debian's /usr/lib/postgresql/N/bin)."""
    cand = shutil.which("initdb")
    dirs = [os.path.dirname(os.path.realpath(cand))] if cand else []
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        versions = sorted((v for v in os.listdir(base) if v.split(".")[0].isdigit()),
                          key=lambda v: [int(x) for x in v.split(".") if x.isdigit()], reverse=True)
        dirs += [os.path.join(base, v, "bin") for v in versions]
    for d in dirs:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def cksum(data):
    """POSIX cksum(1)'s CRC of bytes (so the /tmp socket paths stay those the shell version chose)."""
    crc = 0
    length = len(data)
    tail = b""
    while length:
        tail += bytes([length & 0xff])
        length >>= 8
    for byte in data + tail:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xffffffff if crc & 0x80000000 else (crc << 1) & 0xffffffff
    return ~crc & 0xffffffff


def sockdir_for(directory):
    """DIR/sock, or /tmp/telebot-pg-<cksum of DIR> when DIR/sock/.s.PGSQL.NNNNN would be too long."""
    s = os.path.join(directory, "sock")
    if len(s) + 18 > 100:
        s = "/tmp/telebot-pg-%d" % cksum(directory.encode())
    return s


def conf_text(sockdir, port, listen="127.0.0.1"):
    settings = dict(SETTINGS, listen_addresses="'%s'" % listen.replace("'", "''"))
    lines = ["# Written by telebot_py.cluster: a private development/test cluster."]
    lines += ["%s = %s" % (k, v) for k, v in settings.items()]
    lines.insert(2, "unix_socket_directories = '%s'" % sockdir.replace("'", "''"))
    lines.insert(3, "port = %d" % port)
    return "\n".join(lines) + "\n"


def read_conf(datadir):
    """The port and unix_socket_directories a telebot.conf sets ({} when there is none)."""
    try:
        with open(os.path.join(datadir, "telebot.conf")) as f:
            text = f.read()
    except OSError:
        return {}
    found = {}
    for m in re.finditer(r"^(port|unix_socket_directories) = (\d+|'(?:[^']|'')*')$", text, re.M):
        value = m.group(2)
        found[m.group(1)] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    return found


def default_runas():
    return "postgres" if os.geteuid() == 0 else ""


class Cluster:
    def __init__(self, pgbin, datadir, log, runas, host, port):
        self.pgbin = pgbin
        self.datadir = datadir
        self.log = log
        self.runas = runas or ""
        self.host = host
        self.port = str(port)

    @classmethod
    def attach(cls, pgbin, datadir, log, runas, host, port):
        """A cluster someone else started (scripts/drill passes what pg_start_cluster reported)."""
        return cls(pgbin, datadir, log, runas, host, port)

    @classmethod
    def open(cls, directory, pgbin=None, runas=None, sockdir=None):
        """The cluster in DIR as its telebot.conf describes it (port and socket; None when never configured)."""
        pgbin = pgbin or find_pgbin()
        if not pgbin:
            raise ClusterError("PostgreSQL server binaries not found (scripts/lib/pg.sh's pg_ensure_installed "
                               "installs them)")
        runas = default_runas() if runas is None else runas
        if runas:
            try:
                pwd.getpwnam(runas)
            except KeyError:
                raise ClusterError("user %s does not exist (scripts/lib/pg.sh's pg_ensure_installed creates it)"
                                   % runas) from None
        directory = os.path.realpath(directory)
        datadir = os.path.join(directory, "data")
        conf = read_conf(datadir)
        host = conf.get("unix_socket_directories") or sockdir or sockdir_for(directory)
        return cls(pgbin, datadir, os.path.join(directory, "postgres.log"), runas, host, conf.get("port", ""))

    @classmethod
    def create(cls, directory, pgbin=None, runas=None, port=None, sockdir=None, listen="127.0.0.1"):
        """initdb DIR/data (once) and start it: on `port`, or on a free port (three tries)."""
        os.makedirs(directory, exist_ok=True)
        directory = os.path.realpath(directory)
        sockdir = sockdir or sockdir_for(directory)
        c = cls.open(directory, pgbin, runas, sockdir)
        c.host = sockdir if not c.is_running() else c.host
        os.makedirs(c.host, exist_ok=True)
        if c.runas:
            open(c.log, "a").close()
            subprocess.run(["chown", c.runas + ":", directory, c.host, c.log], check=True)
            if os.path.isdir(c.datadir):
                subprocess.run(["chown", "-R", c.runas + ":", c.datadir], check=True)
            os.chmod(directory, 0o755)
            os.chmod(c.host, 0o755)
            if c._run(["test", "-w", directory]).returncode != 0:
                raise ClusterError("user %s cannot reach %s (a parent directory is not searchable); move the repo "
                                   "or set DATABASE_URL" % (c.runas, directory))
        version = os.path.join(c.datadir, "PG_VERSION")
        if not (os.path.exists(version) and os.path.getsize(version) > 0):
            log("initdb %s" % c.datadir)
            initdb_log = os.path.join(directory, "initdb.log")
            with open(initdb_log, "w") as out:
                res = c._run([os.path.join(c.pgbin, "initdb"), "-D", c.datadir, "--auth=trust", "-U", "postgres",
                              "-E", "UTF8", "--locale=C.UTF-8"], stdout=out, timeout=600)
            if res.returncode != 0:
                with open(initdb_log, errors="replace") as f:
                    sys.stderr.write(f.read())
                raise ClusterError("initdb failed")
        if c.is_running():
            log("already running on port %s, socket %s" % (c.port, c.host))
            return c
        for attempt in (1, 2, 3):
            c.port = str(port or free_port())
            c.write_conf(listen)
            if c.pg_ctl("-l", c.log, "-w", "-t", "60", "start").returncode == 0:
                break
            if port or attempt == 3:
                c.tail_log()
                raise ClusterError("could not start PostgreSQL (data %s, port %s); log: %s" % (c.datadir, c.port,
                                                                                             c.log))
            log("start on port %s failed, retrying with another port" % c.port)
        where = "127.0.0.1:%s" % c.port if listen else "port %s (socket only)" % c.port
        log("started on %s, socket %s" % (where, c.host))
        return c

    def _run(self, cmd, stdin=None, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=180):
        if self.runas:
            cmd = ["runuser", "-u", self.runas, "--"] + cmd
        if stdin is None:
            return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, timeout=timeout)
        return subprocess.run(cmd, input=stdin, stdout=stdout, stderr=stderr, text=True, timeout=timeout)

    def write_conf(self, listen="127.0.0.1"):
        """DATA/telebot.conf (written as the server's user), included from postgresql.conf."""
        path = os.path.join(self.datadir, "telebot.conf")
        if self._run(["tee", path], conf_text(self.host, int(self.port), listen)).returncode != 0:
            raise ClusterError("could not write %s" % path)
        conf = os.path.join(self.datadir, "postgresql.conf")
        with open(conf) as f:
            included = any(line.rstrip("\n") == INCLUDE for line in f)
        if not included and self._run(["tee", "-a", conf], "\n" + INCLUDE + "\n").returncode != 0:
            raise ClusterError("could not append to %s" % conf)

    def pg_ctl(self, *args, stderr=subprocess.STDOUT):
        """pg_ctl -D DATA ARGS: its output discarded (stderr=None lets its errors through), a CompletedProcess."""
        return self._run([os.path.join(self.pgbin, "pg_ctl"), "-D", self.datadir] + list(args), stderr=stderr)

    def is_running(self):
        return os.path.isdir(self.datadir) and self.pg_ctl("status").returncode == 0

    def tail_log(self, lines=30):
        try:
            with open(self.log, errors="replace") as f:
                sys.stderr.write("".join(f.readlines()[-lines:]))
        except OSError:
            pass

    def _checked(self, what, *args):
        if self.pg_ctl(*args).returncode != 0:
            self.tail_log()
            raise ClusterError("pg_ctl %s failed (data %s); log: %s" % (what, self.datadir, self.log))

    def restart(self):
        self._checked("restart", "-l", self.log, "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self, mode="fast"):
        self._checked("stop", "-m", mode, "-w", "-t", "60", "stop")

    def start(self):
        self._checked("start", "-l", self.log, "-w", "-t", "60", "start")

    def psql_command(self, db, *extra):
        return [os.path.join(self.pgbin, "psql"), "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1",
                "-h", self.host, "-p", self.port, "-U", "postgres", "-d", db] + list(extra)

    def psql(self, db, sql):
        """Runs SQL with psql; returns the unaligned, tuples-only output lines (fields split by |)."""
        res = subprocess.run(self.psql_command(db, "-f", "-"), input=sql, capture_output=True, text=True,
                             timeout=120)
        if res.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (res.stderr.strip(), sql[:400]))
        return [line for line in res.stdout.splitlines() if line != ""]

    def psql_value(self, db, sql):
        lines = self.psql(db, sql)
        return lines[0] if lines else None

    def url(self, db):
        """A libpq conninfo for `db` (values quoted as scripts/drill's q does)."""
        def q(v):
            return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "host=%s port=%s user=postgres dbname=%s" % (q(self.host), self.port, db)

    def shell_assignments(self):
        return "".join("%s=%s\n" % (k, shlex.quote(v))
                       for k, v in (("PG_DATADIR", self.datadir), ("PG_SOCKDIR", self.host), ("PG_PORT", self.port)))
