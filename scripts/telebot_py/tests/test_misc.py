"""The sandbox's initData and price options (the cluster controller's tests are in test_cluster.py)."""
import argparse
import unittest
import urllib.parse

from telebot_py import signing
from telebot_py.sandbox import common as sandbox_common
from telebot_py.sandbox.main import Config as SandboxConfig


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
