"""The drill's pure pieces: configuration, duplicates, Stars deliveries, Stripe fates, percentiles, the checks'
comparisons."""
import collections
import random
import unittest

from telebot_py.drill import config as drill_config
from telebot_py.drill.checks import Checks, check_grant_states, check_grants_made
from telebot_py.drill.engine import percentile, with_duplicates
from telebot_py.drill.stars import telegram_deliveries
from telebot_py.drill.stripe_events import StripeSet

ENV = {"DRILL_ROOT": "/r", "DRILL_BIN": "/r/bin", "DRILL_OUT": "/r/out", "DRILL_PGBIN": "/pg", "DRILL_PGDATA": "/d",
       "DRILL_PGLOG": "/d/log", "DRILL_PGHOST": "/sock", "DRILL_PGPORT": "5432", "DATABASE_URL": "dbname=telebot_drill"}


def context(env=None):
    return drill_config.Context(drill_config.Config.from_env(dict(ENV, **(env or {}))))


class ConfigTests(unittest.TestCase):
    def test_defaults(self):
        cfg = drill_config.Config.from_env(ENV)
        self.assertEqual((cfg.events, cfg.concurrency, cfg.phase_timeout, cfg.outage_seconds, cfg.outage_events),
                         (5000, 16, 150.0, 30.0, 600))
        self.assertEqual((cfg.pgbouncer, cfg.pgb_events, cfg.pgb_prepared, cfg.reconcile, cfg.reconcile_only),
                         ("", 1500, "false", True, False))
        self.assertEqual((cfg.seed, cfg.pgrunas, cfg.reconcile_stripe, cfg.reconcile_interval), (0, "", 2000, 5))

    def test_overrides(self):
        cfg = drill_config.Config.from_env(dict(ENV, DRILL_EVENTS="100", DRILL_RECONCILE="0", DRILL_SEED="7",
                                                DRILL_RECONCILE_ONLY="1", DRILL_OUTAGE_SECONDS="2.5"))
        self.assertEqual((cfg.events, cfg.reconcile, cfg.seed, cfg.reconcile_only, cfg.outage_seconds),
                         (100, False, 7, True, 2.5))

    def test_missing_required(self):
        env = dict(ENV)
        del env["DRILL_BIN"]
        with self.assertRaises(KeyError):
            drill_config.Config.from_env(env)

    def test_secrets_fresh_each_run(self):
        a, b = drill_config.Secrets.generate(), drill_config.Secrets.generate()
        self.assertNotEqual(a.bot_token, b.bot_token)
        self.assertRegex(a.bot_token, r"^123456:[A-Za-z0-9]{35}$")
        self.assertTrue(a.stripe_secret.startswith("whsec_"))

    def test_fmt_counter(self):
        self.assertEqual(drill_config.fmt_counter(collections.Counter(b=2, a=1)), "a 1, b 2")
        self.assertEqual(drill_config.fmt_counter({}), "none")


class DuplicatesTests(unittest.TestCase):
    def test_every_key_once_plus_duplicates(self):
        keys = ["k%d" % i for i in range(100)]
        seq = with_duplicates(keys, 130, random.Random(1))
        self.assertEqual(len(seq), 130)
        self.assertEqual(set(seq), set(keys))
        self.assertEqual(sum(n - 1 for n in collections.Counter(seq).values()), 30)

    def test_a_third_adjacent(self):
        keys = ["k%d" % i for i in range(1000)]
        seq = with_duplicates(keys, 1300, random.Random(2))
        adjacent = sum(1 for a, b in zip(seq, seq[1:]) if a == b)
        # 300 // 3 placed right after their original (later random inserts split a few of them); a random order
        # alone would give almost none
        self.assertGreaterEqual(adjacent, 60)

    def test_no_duplicates(self):
        self.assertEqual(sorted(with_duplicates(["a", "b"], 2, random.Random(3))), ["a", "b"])


class StarsDeliveriesTests(unittest.TestCase):
    def test_counts_and_duplicates(self):
        ctx = context()
        tset = telegram_deliveries(ctx, 1300, random.Random(4))
        self.assertEqual(len(tset.deliveries), 1300)
        self.assertEqual(tset.unique, round(round(1300 / 1.3) / 1.1))
        self.assertEqual(tset.refunded, round(tset.unique * 0.10))
        self.assertGreater(tset.new_updates, 0)
        self.assertEqual([d.index for d in tset.deliveries], list(range(1300)))
        live = tset.expected()
        self.assertEqual(sum(live.values()), tset.unique - tset.refunded)
        self.assertTrue(any(n == 0 for n in live.values()))  # a user that loses every charge

    def test_more_charges_extend_the_set(self):
        ctx = context()
        rng = random.Random(5)
        tset = telegram_deliveries(ctx, 130, rng)
        first = tset.unique
        telegram_deliveries(ctx, 130, rng, tset, start=1_000_000)
        self.assertGreater(tset.unique, first)
        self.assertEqual(len(tset.deliveries), 130)


class StripeSetTests(unittest.TestCase):
    def test_fates_and_expected(self):
        ctx = context()
        s = StripeSet(ctx)
        ids = s.make_with_reversals(400, "s", random.Random(6))
        fates = s.fates()
        self.assertEqual(fates["refund_classic"] + fates["refund_current"], 40)
        self.assertGreaterEqual(fates["dispute_lost"], 20)
        self.assertEqual(fates["dispute_won"], 20)
        self.assertEqual(len(ids), len(s.bodies))
        expected = s.expected()
        self.assertTrue(all(expected[u] == ("revoked", None) for u in s.reversed_users))
        # the stub finds the invoice of a payment intent named by a refund or dispute
        self.assertTrue(all(v.startswith("in_drill_s") for v in ctx.invoice_of_payment_intent.values()))

    def test_make_avoids_reversed_users(self):
        s = StripeSet(context())
        s.make_with_reversals(200, "s", random.Random(7))
        s.make(50, "t")
        new = [v for k, v in s.invoices.items() if k.startswith("in_drill_t")]
        self.assertEqual(len(new), 50)
        self.assertFalse({u for u, _, _, _ in new} & s.reversed_users)


class PercentileTests(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual((percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)), (50, 99, 100))
        self.assertEqual(percentile([], 0.5), 0.0)
        self.assertEqual(percentile([3.0], 0.99), 3.0)


class ChecksTests(unittest.TestCase):
    def test_grants_made(self):
        checks = Checks()
        got = {"a": [("active", 1, "evt_a")], "b": [("active", 2, "evt_b")]}
        self.assertEqual(check_grants_made(checks, "x", got, {"a": "evt_a", "b": "evt_b"}), (2, 2))
        check_grants_made(checks, "x", dict(got, b=[("active", 2, "evt_other")]), {"a": "evt_a", "b": "evt_b"})
        check_grants_made(checks, "x", dict(got, c=[("active", 3, "evt_c")]), {"a": "evt_a", "b": "evt_b"})
        check_grants_made(checks, "x", {"a": got["a"] * 2}, {"a": "evt_a"})
        self.assertEqual([ok for _, ok, _ in checks.results], [True, False, False, False])
        self.assertIn("made by another event 1", checks.results[1][2])
        self.assertIn("unexpected 1", checks.results[2][2])
        self.assertEqual(len(checks.failed), 3)

    def test_grant_states(self):
        checks = Checks()
        got = {"a": [("refunded", 1, "e")], "b": [("active", 2, "f")]}
        states = check_grant_states(checks, "x", got, {"a": "refunded", "b": "active"})
        self.assertEqual(states, collections.Counter(refunded=1, active=1))
        check_grant_states(checks, "x", got, {"a": "charged_back", "b": "active"})
        self.assertEqual([ok for _, ok, _ in checks.results], [True, False])
        self.assertIn("'a', ['refunded'], 'charged_back'", checks.results[1][2])


if __name__ == "__main__":
    unittest.main()


class EngineTests(unittest.TestCase):
    def test_resends_until_2xx_and_reports_violations(self):
        from telebot_py.drill.engine import Delivery, Engine
        from telebot_py.fakes import FakeStripe
        seen = collections.Counter()

        def answer(call, match):
            seen[match.group(1)] += 1
            if match.group(1) == "bad" and seen["bad"] == 1:
                return 400, {"error": "once"}
            return (503, {}) if seen[match.group(1)] == 1 else (200, {"outcome": "applied"})

        fake = FakeStripe([("POST", r"/d/(\w+)", answer)]).start()
        self.addCleanup(fake.stop)
        deliveries = [Delivery(i, key, None) for i, key in enumerate(["a", "b", "bad"])]
        engine = Engine("t", deliveries, lambda d: ("POST", "/d/" + d.key, b"{}", {}), lambda: [fake.port], 2, 30)
        engine.run()
        self.assertEqual((engine.ok, engine.sent, engine.retries, engine.undelivered), (3, 6, 3, []))
        self.assertEqual(engine.outcomes, collections.Counter(applied=3))
        self.assertEqual(engine.errors, collections.Counter({"HTTP 503": 2, "HTTP 400": 1}))
        self.assertEqual(len(engine.violations), 1)
        self.assertIn("delivery bad", engine.violations[0])
