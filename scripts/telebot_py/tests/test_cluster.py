"""telebot_py.cluster, the one cluster controller: its settings, its command line (start, psql over the socket,
restart, stop, destroy) and scripts/lib/pg.sh's wrappers around it. The lifecycle tests need PostgreSQL's server
binaries (skipped without them); as root they run the server as "postgres", as scripts/test does."""
import contextlib
import io
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from telebot_py import cluster

SCRIPTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(cluster.__file__))))
PGBIN = cluster.find_pgbin()


def server_user_missing():
    """As root the server runs as "postgres" (scripts/lib/pg.sh's pg_ensure_installed creates it)."""
    try:
        if cluster.default_runas():
            pwd.getpwnam(cluster.default_runas())
        return False
    except KeyError:
        return True


def cli(*args):
    env = dict(os.environ, PYTHONPATH=SCRIPTS)
    return subprocess.run([sys.executable, "-m", "telebot_py.cluster"] + list(args), env=env, capture_output=True,
                          text=True, timeout=300)


def assignments(stdout):
    """What `eval` in bash would set, from start/restart's output."""
    found = {}
    for line in stdout.splitlines():
        name, _, value = line.partition("=")
        found[name] = shlex.split(value)[0]
    return found


class SettingsTests(unittest.TestCase):
    def test_conf_text(self):
        text = cluster.conf_text("/tmp/it's", 5555)
        for line in ("listen_addresses = '127.0.0.1'", "unix_socket_directories = '/tmp/it''s'", "port = 5555",
                     "max_connections = 1000", "fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            self.assertIn(line + "\n", text)
        self.assertIn("listen_addresses = ''\n", cluster.conf_text("/s", 1, listen=""))

    def test_read_conf(self):
        directory = tempfile.mkdtemp(prefix="telebot-py-test.")
        self.addCleanup(shutil.rmtree, directory, True)
        with open(os.path.join(directory, "telebot.conf"), "w") as f:
            f.write(cluster.conf_text("/tmp/it's", 5555))
        self.assertEqual(cluster.read_conf(directory), {"port": "5555", "unix_socket_directories": "/tmp/it's"})
        self.assertEqual(cluster.read_conf(os.path.join(directory, "none")), {})

    def test_sockdir(self):
        self.assertEqual(cluster.sockdir_for("/tmp/x"), "/tmp/x/sock")
        long_dir = "/tmp/" + "d" * 100
        self.assertEqual(cluster.sockdir_for(long_dir), "/tmp/telebot-pg-1736607210")  # printf %s DIR | cksum

    @unittest.skipUnless(shutil.which("cksum"), "no cksum")
    def test_cksum_is_posix_cksum(self):
        for data in (b"", b"a", b"/tmp/x y'z", b"d" * 300):
            out = subprocess.run(["cksum"], input=data, capture_output=True, check=True).stdout.split()[0]
            self.assertEqual(cluster.cksum(data), int(out))

    def test_psql_command_and_url(self):
        c = cluster.Cluster.attach("/pg", "/d", "/d/log", "", "/sock dir", 5432)
        self.assertEqual(c.psql_command("db", "-f", "-"),
                         ["/pg/psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", "/sock dir", "-p",
                          "5432", "-U", "postgres", "-d", "db", "-f", "-"])
        self.assertEqual(c.url("telebot_drill"), "host='/sock dir' port=5432 user=postgres dbname=telebot_drill")
        self.assertEqual(assignments(cluster.Cluster.attach("/pg", "/a b/data", "", "", "/a b/sock", 7)
                                     .shell_assignments()),
                         {"PG_DATADIR": "/a b/data", "PG_SOCKDIR": "/a b/sock", "PG_PORT": "7"})

    def test_usage_errors(self):
        self.assertEqual(cli().returncode, 2)
        self.assertEqual(cli("stop", "/x", "--mode", "smart").returncode, 2)
        res = cli("restart", "/nonexistent/telebot-cluster")
        self.assertEqual(res.returncode, 1)
        self.assertIn("[pg] error: no cluster in", res.stderr)


@unittest.skipUnless(PGBIN, "PostgreSQL server binaries not installed")
@unittest.skipIf(server_user_missing(), "running as root and the user postgres does not exist")
class LifecycleTests(unittest.TestCase):
    def setUp(self):
        parent = tempfile.mkdtemp(prefix="telebot-py-test.")
        os.chmod(parent, 0o755)  # as root, the server's user must reach the cluster directory
        self.dir = os.path.join(parent, "it's a cluster")
        self.addCleanup(shutil.rmtree, parent, True)
        self.addCleanup(cli, "destroy", self.dir)

    def psql(self, env, sql, db="postgres"):
        res = subprocess.run([os.path.join(PGBIN, "psql"), "-X", "-At", "-h", env["PG_SOCKDIR"], "-p", env["PG_PORT"],
                              "-U", "postgres", "-d", db, "-c", sql], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout.strip()

    def test_cli_start_restart_stop_destroy(self):
        res = cli("start", self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        env = assignments(res.stdout)
        self.assertEqual(env["PG_DATADIR"], os.path.join(os.path.realpath(self.dir), "data"))
        self.assertEqual(env["PG_SOCKDIR"], os.path.join(os.path.realpath(self.dir), "sock"))
        self.assertIn("[pg] started on 127.0.0.1:%s" % env["PG_PORT"], res.stderr)
        self.assertEqual(self.psql(env, "SHOW fsync"), "off")
        self.assertEqual(self.psql(env, "SHOW listen_addresses"), "127.0.0.1")
        self.psql(env, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")

        again = cli("start", self.dir, "--port", "1")  # running: reported as it is
        self.assertEqual((again.returncode, assignments(again.stdout)), (0, env))
        self.assertIn("already running on port %s" % env["PG_PORT"], again.stderr)

        pid = self.psql(env, "SELECT pg_backend_pid()")
        res = cli("restart", self.dir)
        self.assertEqual((res.returncode, assignments(res.stdout)), (0, env), res.stderr)
        self.assertNotEqual(self.psql(env, "SELECT pg_backend_pid()"), pid)
        self.assertEqual(self.psql(env, "SELECT n FROM kept"), "7")

        res = cli("stop", self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("[pg] stopped cluster in", res.stderr)
        self.assertEqual(cli("stop", self.dir).returncode, 0)  # not running: a no-op
        self.assertFalse(cluster.Cluster.open(self.dir, PGBIN).is_running())

        port = str(cluster.free_port())
        res = cli("start", self.dir, "--port", port, "--socket-only")
        self.assertEqual(res.returncode, 0, res.stderr)
        env = assignments(res.stdout)
        self.assertEqual(env["PG_PORT"], port)
        self.assertEqual(self.psql(env, "SHOW listen_addresses"), "")
        self.assertEqual(self.psql(env, "SELECT n FROM kept"), "7")

        self.assertEqual(cli("stop", self.dir, "--mode", "immediate").returncode, 0)
        res = cli("restart", self.dir)  # pg_ctl restart starts a stopped server
        self.assertEqual((res.returncode, assignments(res.stdout)), (0, env), res.stderr)
        self.assertEqual(self.psql(env, "SELECT n FROM kept"), "7")

        res = cli("destroy", self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertFalse(os.path.exists(self.dir))
        self.assertEqual(cli("destroy", self.dir).returncode, 0)

    def test_cli_fixed_port_taken_fails(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        self.addCleanup(taken.close)
        res = cli("start", self.dir, "--port", str(taken.getsockname()[1]))
        self.assertEqual(res.returncode, 1)
        self.assertIn("[pg] error: could not start PostgreSQL", res.stderr)
        self.assertEqual(res.stdout, "")

    def test_library_create_restart_stop(self):
        with contextlib.redirect_stderr(io.StringIO()) as progress:
            c = cluster.Cluster.create(self.dir, PGBIN)
        self.assertIn("[pg] started on", progress.getvalue())
        self.assertEqual(c.psql("postgres", "SHOW fsync; SHOW max_connections"), ["off", "1000"])
        c.restart()
        self.assertEqual(c.psql_value("postgres", "SELECT 41 + 1"), "42")
        c.stop()
        self.assertNotEqual(c.pg_ctl("status").returncode, 0)

    def test_pg_sh_wrappers(self):
        script = """set -euo pipefail
            . "$1/lib/pg.sh"
            pg_start_cluster "$2"
            printf '%s\\n' "$PG_DATADIR" "$PG_SOCKDIR" "$PG_PORT"
            PG_USER=postgres pg_create_db wrapped
            pg_psql wrapped -At -c 'SELECT current_database()'
            pg_start_cluster "$2" 1
            printf '%s\\n' "$PG_PORT"
            pg_stop_cluster "$2"
            pg_stop_cluster "$2"
            pg_stop_cluster "$2/none"
            echo stopped"""
        res = subprocess.run(["bash", "-c", script, "bash", SCRIPTS, self.dir], env=dict(os.environ, PGBIN=PGBIN),
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr)
        real = os.path.realpath(self.dir)
        lines = res.stdout.splitlines()
        self.assertEqual(lines[:2], [real + "/data", real + "/sock"])
        self.assertEqual(lines[3:], ["wrapped", lines[2], "stopped"])
        self.assertEqual(res.stderr.count("[pg] stopped cluster in"), 1)


if __name__ == "__main__":
    unittest.main()
