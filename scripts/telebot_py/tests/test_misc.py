"""The cluster controller's settings (as scripts/lib/pg.sh), the sandbox's initData and price options."""
import argparse
import shutil
import tempfile
import unittest
import urllib.parse

from telebot_py import cluster, signing
from telebot_py.sandbox import common as sandbox_common
from telebot_py.sandbox.main import Config as SandboxConfig


class ClusterTests(unittest.TestCase):
    def test_conf_matches_pg_sh(self):
        text = cluster.conf_text("/tmp/it's", 5555)
        for line in ("listen_addresses = '127.0.0.1'", "unix_socket_directories = '/tmp/it''s'", "port = 5555",
                     "max_connections = 1000", "fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            self.assertIn(line + "\n", text)

    def test_sockdir(self):
        self.assertEqual(cluster.sockdir_for("/tmp/x"), "/tmp/x/sock")
        long_dir = "/tmp/" + "d" * 100
        self.assertRegex(cluster.sockdir_for(long_dir), r"^/tmp/telebot-pg-\d+$")

    def test_psql_command_and_url(self):
        c = cluster.Cluster.attach("/pg", "/d", "/d/log", "", "/sock dir", 5432)
        self.assertEqual(c.psql_command("db", "-f", "-"),
                         ["/pg/psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", "/sock dir", "-p",
                          "5432", "-U", "postgres", "-d", "db", "-f", "-"])
        self.assertEqual(c.url("telebot_drill"), "host='/sock dir' port=5432 user=postgres dbname=telebot_drill")


@unittest.skipUnless(cluster.find_pgbin(), "PostgreSQL server binaries not installed")
class ClusterLifecycleTests(unittest.TestCase):
    def test_create_restart_stop(self):
        directory = tempfile.mkdtemp(prefix="telebot-py-test.")
        self.addCleanup(shutil.rmtree, directory, True)
        c = cluster.Cluster.create(directory)
        try:
            self.assertEqual(c.psql("postgres", "SHOW fsync; SHOW max_connections"), ["off", "1000"])
            c.restart()
            self.assertEqual(c.psql_value("postgres", "SELECT 41 + 1"), "42")
        finally:
            c.stop()
        self.assertNotEqual(c.pg_ctl("status").returncode, 0)


class SandboxTests(unittest.TestCase):
    def test_demo_init_data_is_signed(self):
        data = sandbox_common.signed_init_data("1:tok", 424242, auth_date=1700000000)
        pairs = dict(urllib.parse.parse_qsl(data))
        given = pairs.pop("hash")
        self.assertEqual(given, signing.init_data_hash("1:tok", pairs))
        self.assertEqual(pairs["auth_date"], "1700000000")
        self.assertIn('"allows_write_to_pm":true', pairs["user"])
        self.assertNotIn("is_bot", pairs["user"])

    def test_demo_url_fragment(self):
        self.assertEqual(sandbox_common.demo_url("http://x/miniapp/#old", "a=1&b=2"),
                         "http://x/miniapp/#tgWebAppData=a%3D1%26b%3D2")

    def test_prices(self):
        args = argparse.Namespace(host="127.0.0.1", telebot_url=None, miniapp_url=None, user_id=None,
                                  price=["price_x=1200:365:eur", "price_y=300"])
        config = SandboxConfig(args, {"TELEGRAM_BOT_TOKEN": "1:t", "STRIPE_WEBHOOK_SECRET": "whsec_a, whsec_b"})
        self.assertEqual(config.price("price_x"), (1200, "eur", 365))
        self.assertEqual(config.price("price_y"), (300, "usd", 30))
        self.assertEqual(config.price("price_premium_monthly"), (499, "usd", 30))
        self.assertEqual(config.price("other_yearly"), (999, "usd", 365))
        self.assertEqual(config.stripe_webhook_secret, "whsec_a")
        self.assertEqual(config.miniapp_url, "http://127.0.0.1:8080/miniapp/")
        with self.assertRaises(SystemExit):
            SandboxConfig(argparse.Namespace(**dict(vars(args), price=["bad"])), {})

    def test_money(self):
        self.assertEqual(sandbox_common.money(499, "usd"), "4.99 USD")
        self.assertEqual(sandbox_common.money(50, "XTR"), "50 Stars")


if __name__ == "__main__":
    unittest.main()
