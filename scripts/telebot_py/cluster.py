"""A throwaway PostgreSQL cluster, from Python: the settings and layout of scripts/lib/pg.sh (DIR/data, socket in
DIR/sock or a short /tmp path, log DIR/postgres.log, telebot.conf included from postgresql.conf, auth trust,
127.0.0.1 only, fsync off), binaries run as PG_RUNAS ("postgres" when root) through runuser.

    Cluster.attach(pgbin, datadir, log, runas, host, port)   a cluster someone else started (scripts/drill)
    Cluster.create(dir, pgbin)                               initdb + start on a free port; .stop() removes nothing

scripts/lib/pg.sh stays the shell version (scripts/test, scripts/run, scripts/drill start the cluster with it);
keep the two in step.
"""
import os
import shutil
import socket
import subprocess
import zlib

SETTINGS = {  # scripts/lib/pg.sh _pg_write_conf
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "1000",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


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


def sockdir_for(directory):
    """pg.sh's pg_sockdir_for: DIR/sock, or /tmp/telebot-pg-<cksum> when the socket path would be too long."""
    s = os.path.join(directory, "sock")
    if len(s) + 18 > 100:
        s = "/tmp/telebot-pg-%d" % (zlib.crc32(directory.encode()) & 0xffffffff)
    return s


def conf_text(sockdir, port):
    lines = ["# Written by telebot_py.cluster (as scripts/lib/pg.sh): a private development/test cluster."]
    lines += ["%s = %s" % (k, v) for k, v in SETTINGS.items()]
    lines.insert(2, "unix_socket_directories = '%s'" % sockdir.replace("'", "''"))
    lines.insert(3, "port = %d" % port)
    return "\n".join(lines) + "\n"


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
        return cls(pgbin, datadir, log, runas, host, port)

    @classmethod
    def create(cls, directory, pgbin=None, runas=None):
        """initdb DIR/data (once) and start it on a free port, as pg_start_cluster does."""
        pgbin = pgbin or find_pgbin()
        if not pgbin:
            raise RuntimeError("PostgreSQL server binaries not found (scripts/lib/pg.sh installs them)")
        runas = ("postgres" if os.geteuid() == 0 else "") if runas is None else runas
        directory = os.path.realpath(directory)
        os.makedirs(directory, exist_ok=True)
        sockdir = sockdir_for(directory)
        os.makedirs(sockdir, exist_ok=True)
        c = cls(pgbin, os.path.join(directory, "data"), os.path.join(directory, "postgres.log"), runas, sockdir,
                free_port())
        if runas:
            open(c.log, "a").close()
            subprocess.run(["chown", runas + ":", directory, sockdir, c.log], check=True)
            os.chmod(directory, 0o755)
            os.chmod(sockdir, 0o755)
        if not os.path.exists(os.path.join(c.datadir, "PG_VERSION")):
            res = c._run([os.path.join(pgbin, "initdb"), "-D", c.datadir, "--auth=trust", "-U", "postgres",
                          "-E", "UTF8", "--locale=C.UTF-8"])
            if res.returncode != 0:
                raise RuntimeError("initdb failed: %s" % res.stdout + res.stderr)
        c._run(["tee", os.path.join(c.datadir, "telebot.conf")], conf_text(sockdir, int(c.port)))
        conf = os.path.join(c.datadir, "postgresql.conf")
        with open(conf) as f:
            included = "include_if_exists = 'telebot.conf'" in f.read()
        if not included:
            c._run(["tee", "-a", conf], "\ninclude_if_exists = 'telebot.conf'\n")
        res = c.pg_ctl("-l", c.log, "-w", "-t", "60", "start")
        if res.returncode != 0:
            raise RuntimeError("pg_ctl start failed: %s %s" % (res.stdout, res.stderr))
        return c

    def _run(self, cmd, stdin=None):
        if self.runas:
            cmd = ["runuser", "-u", self.runas, "--"] + cmd
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)

    def pg_ctl(self, *args):
        return self._run([os.path.join(self.pgbin, "pg_ctl"), "-D", self.datadir] + list(args))

    def _checked(self, what, *args):
        res = self.pg_ctl(*args)
        if res.returncode != 0:
            raise RuntimeError("pg_ctl %s failed: %s %s" % (what, res.stdout, res.stderr))
        return res

    def restart(self):
        self._checked("restart", "-l", self.log, "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self):
        self._checked("stop", "-m", "fast", "-w", "-t", "60", "stop")

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
