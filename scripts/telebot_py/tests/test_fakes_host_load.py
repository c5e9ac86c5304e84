"""The fakes host under the load the Swift tests put on it: the same request many times at once (one object, one
refund), fault queues consumed once each, and many fakes started and stopped in a row (a stop takes milliseconds)."""
import threading
import time
import unittest

from telebot_py.tests.test_fakes_host import TOKEN, HostCase, request

KEY = "sk_test_1"


def at_once(count, fn):
    """Runs fn(i) in `count` threads started together; returns the results in order."""
    results, barrier = [None] * count, threading.Barrier(count)

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


class LoadTests(HostCase):
    def test_one_idempotency_key_at_once_creates_one_customer(self):
        fake, port = self.new_fake(kind="stripe", api_key=KEY)
        answers = at_once(48, lambda _: request(port, "POST", "/v1/customers", b"email=a",
                                                {"Authorization": "Bearer " + KEY, "Idempotency-Key": "same"}))
        self.assertEqual({(status, body) for status, body, _ in answers}, {(200, answers[0][1])})
        self.assertEqual(self.control("GET", "/fakes/%s/created?kind=cus" % fake)["ids"], ["cus_fake000001"])
        replayed = [r["replayed"] for r in self.control("GET", "/fakes/%s/requests" % fake)["requests"]]
        self.assertEqual(sorted(replayed), [False] + [True] * 47)

    def test_one_charge_refunded_at_once_once(self):
        fake, port = self.new_fake(kind="bot_api", token=TOKEN)
        body = {"user_id": 1, "telegram_payment_charge_id": "ch_1"}
        answers = at_once(48, lambda _: request(port, "POST", "/bot%s/refundStarPayment" % TOKEN, body)[0])
        self.assertEqual(sorted(answers), [200] + [400] * 47)

    def test_faults_consumed_once_each(self):
        fake, port = self.new_fake(kind="bot_api", token=TOKEN)
        self.control("POST", "/fakes/%s/faults" % fake,
                     {"method": "getMe", "times": 5, "fault": {"kind": "server_error", "status": 500}})
        answers = at_once(12, lambda _: request(port, "POST", "/bot%s/getMe" % TOKEN, {})[0])
        self.assertEqual(sorted(answers), [200] * 7 + [500] * 5)
        calls = self.control("GET", "/fakes/%s/calls" % fake)["calls"]
        self.assertEqual([c["index"] for c in calls], list(range(12)))

    def test_many_fakes_started_and_stopped_quickly(self):
        started = time.monotonic()
        for i in range(40):
            created = self.control("POST", "/fakes", {"kind": "stripe" if i % 2 else "bot_api",
                                                      "token": TOKEN, "api_key": KEY})
            self.assertEqual(request(created["port"], "GET", "/v1/events")[0], 401 if i % 2 else 404)
            self.assertEqual(self.control("DELETE", "/fakes/" + created["id"]), {})
        self.assertLess(time.monotonic() - started, 10)


if __name__ == "__main__":
    unittest.main()
