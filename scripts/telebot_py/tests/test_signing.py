"""telebot_py.signing against values computed by the code it replaced (drill.py, sandbox.py, fuzz_helpers.py)."""
import hashlib
import hmac
import unittest
import urllib.parse

from telebot_py import signing

TOKEN = "123456:ABC"


class InitDataTests(unittest.TestCase):
    def test_known_value(self):
        got = signing.init_data(TOKEN, {"auth_date": "1700000000", "query_id": "AAHq", "user": '{"id":1}'})
        self.assertEqual(got, "auth_date=1700000000&query_id=AAHq&user=%7B%22id%22%3A1%7D"
                              "&hash=af4a69d1e0befc45b234eb0a067739660fcea5cfe16a82e1e00a9f78ce8fb99f")

    def test_hash_checks_like_telegram(self):
        # What telebot does: sorted key=value lines of every field but hash, HMAC keyed with HMAC("WebAppData", token).
        data = signing.user_init_data(TOKEN, {"id": 42, "first_name": "Ä"}, auth_date=1700000000, query_id="Q")
        pairs = dict(urllib.parse.parse_qsl(data))
        given = pairs.pop("hash")
        secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
        check = "\n".join("%s=%s" % (k, pairs[k]) for k in sorted(pairs))
        self.assertEqual(given, hmac.new(secret, check.encode(), hashlib.sha256).hexdigest())
        self.assertEqual(pairs["user"], '{"id":42,"first_name":"Ä"}')
        self.assertEqual(list(pairs), ["query_id", "user", "auth_date"])

    def test_other_token_other_hash(self):
        fields = {"auth_date": "1"}
        self.assertNotEqual(signing.init_data_hash(TOKEN, fields), signing.init_data_hash(TOKEN + "x", fields))


class StripeSignatureTests(unittest.TestCase):
    def test_known_value(self):
        self.assertEqual(signing.stripe_signature("whsec_test", b'{"id":"evt_1"}', 1700000000),
                         "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925")

    def test_current_time_by_default(self):
        header = signing.stripe_signature("whsec_test", b"{}")
        self.assertRegex(header, r"^t=\d{10},v1=[0-9a-f]{64}$")


class StarsPayloadTests(unittest.TestCase):
    def test_key(self):
        self.assertEqual(signing.stars_payload_key(TOKEN).hex(),
                         "c288cd25573fde10147a2004ff5e63abd0ac8db0e6a58a8a7dc78398acc9ab85")

    def test_payload(self):
        key = signing.stars_payload_key(TOKEN)
        self.assertEqual(signing.stars_payload(key, "boost_week", 8000000042, 1700000000, "AAAAAA"),
                         "1:boost_week:3oazrje:s44we8:AAAAAA:B6B9DKqsj8ROlzBF")

    def test_base36(self):
        self.assertEqual([signing.base36(n) for n in (0, 35, 36, -12345)], ["0", "z", "10", "-9ix"])

    def test_b64url(self):
        self.assertEqual(signing.b64url(b"\xfb\xff"), "-_8")


if __name__ == "__main__":
    unittest.main()
