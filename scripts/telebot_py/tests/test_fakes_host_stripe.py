"""The stateful Stripe behind the fakes host (ported from the former Swift fake): key check, objects,
idempotency, refunds, subscriptions, the event listing, every fault, the recorded requests, reset."""
import http.client
import json
import time
import unittest

from telebot_py.tests.test_fakes_host import HostCase, request

KEY = "sk_test_fakeStripeKey0123456789abcdef"
AUTH = {"Authorization": "Bearer " + KEY}


class StripeTests(HostCase):
    def setUp(self):
        self.id, self.port = self.new_fake(kind="stripe", api_key=KEY)

    def stripe(self, method, path, form=None, headers=None):
        """(status, body bytes, headers) of a request with the right key unless headers say otherwise."""
        data = form.encode() if isinstance(form, str) else form
        return request(self.port, method, path, data, dict(AUTH, **(headers or {})))

    def obj(self, method, path, form=None, headers=None):
        status, data, _ = self.stripe(method, path, form, headers)
        return status, json.loads(data)

    def requests(self):
        return self.control("GET", "/fakes/%s/requests" % self.id)["requests"]

    def fault(self, fault, count=1, path=None):
        self.control("POST", "/fakes/%s/faults" % self.id, {"count": count, "path": path, "fault": fault})

    def test_key_checked(self):
        status, data, _ = self.stripe("POST", "/v1/customers", "email=a", {"Authorization": "Bearer sk_wrong"})
        self.assertEqual((status, data), (401, b'{"error":{"message":"Invalid API Key provided",'
                                               b'"type":"invalid_request_error"}}'))
        self.assertEqual(request(self.port, "GET", "/v1/customers/cus_1")[0], 401)
        self.assertEqual([r["status"] for r in self.requests()], [401, 401])

    def test_customer_created_stored_and_listed(self):
        status, data, headers = self.stripe("POST", "/v1/customers", "email=a%40b.c&name=A+B&metadata[user_id]=7")
        customer = json.loads(data)
        self.assertEqual((status, customer["id"], customer["email"], customer["name"], customer["metadata"]),
                         (200, "cus_fake000001", "a@b.c", "A B", {"user_id": "7"}))
        self.assertEqual(data, json.dumps(customer, sort_keys=True, separators=(",", ":")).encode())
        self.assertRegex(headers["request-id"], r"^req_fake[0-9]+$")
        self.assertEqual(self.stripe("GET", "/v1/customers/cus_fake000001")[1], data)
        self.assertEqual(self.control("GET", "/fakes/%s/objects/cus_fake000001" % self.id), customer)
        self.control("GET", "/fakes/%s/objects/cus_nope" % self.id, status=404)
        self.assertEqual(self.control("GET", "/fakes/%s/created?kind=cus" % self.id), {"ids": ["cus_fake000001"]})
        self.assertEqual(self.obj("GET", "/v1/customers/cus_nope"), (404, {"error": {
            "type": "invalid_request_error", "code": "resource_missing", "param": "id",
            "message": "No such object: 'cus_nope'"}}))
        self.assertEqual(self.obj("DELETE", "/v1/customers")[1]["error"]["message"],
                         "Unrecognized request URL (DELETE: /v1/customers).")

    def test_checkout_and_portal_sessions(self):
        def error(form, path="/v1/checkout/sessions"):
            status, body = self.obj("POST", path, form)
            return status, body["error"].get("code"), body["error"].get("param"), body["error"]["message"]

        self.assertEqual(error("mode=x"), (400, "parameter_missing", "mode", "Missing required param: mode."))
        self.assertEqual(error("mode=payment&success_url=s"), (400, "parameter_missing", "line_items",
                                                               "You must specify `line_items` in `payment` mode."))
        self.assertEqual(error("mode=setup")[3], "Missing required param: success_url.")
        self.assertEqual(error("mode=setup&success_url=s&customer=x_1"), (
            400, "resource_missing", "customer", "No such customer: 'x_1'"))
        status, session = self.obj("POST", "/v1/checkout/sessions", "mode=subscription&line_items[0][price]=p&"
                                   "success_url=https%3A%2F%2Fs&customer=cus_1&metadata[k]=v")
        self.assertEqual((session["id"], session["url"], session["customer"], session["cancel_url"],
                          session["metadata"], session["status"]),
                         ("cs_test_fake000001", "https://checkout.stripe.com/c/pay/cs_test_fake000001", "cus_1", None,
                          {"k": "v"}, "open"))
        self.assertEqual(error("return_url=r", "/v1/billing_portal/sessions")[3], "Missing required param: customer.")
        portal = self.obj("POST", "/v1/billing_portal/sessions", "customer=cus_1&return_url=r")[1]
        self.assertEqual((portal["id"], portal["url"]),
                         ("bps_fake000002", "https://billing.stripe.com/p/session/bps_fake000002"))
        self.assertEqual(self.control("GET", "/fakes/%s/created?kind=cs_test" % self.id)["ids"],
                         ["cs_test_fake000001"])
        self.assertEqual(self.control("GET", "/fakes/%s/created?kind=bps" % self.id)["ids"], ["bps_fake000002"])

    def test_idempotency_replay_and_mismatch(self):
        first = self.stripe("POST", "/v1/customers", "email=a", {"Idempotency-Key": "k1"})
        again = self.stripe("POST", "/v1/customers", "email=a", {"Idempotency-Key": "k1"})
        self.assertEqual((again[0], again[1], again[2]["idempotent-replayed"]), (200, first[1], "true"))
        self.assertNotIn("idempotent-replayed", first[2])
        for path, form in (("/v1/customers", "email=b"), ("/v1/billing_portal/sessions", "email=a")):
            status, body = self.obj("POST", path, form, {"Idempotency-Key": "k1"})
            self.assertEqual((status, body["error"]["type"]), (400, "idempotency_error"))
            self.assertEqual(body["error"]["message"], "Keys for idempotent requests can only be used with the "
                                                       "same parameters they were first used with.")
        bad = self.stripe("POST", "/v1/checkout/sessions", "mode=x", {"Idempotency-Key": "k2"})
        replayed = self.stripe("POST", "/v1/checkout/sessions", "mode=x", {"Idempotency-Key": "k2"})
        self.assertEqual((replayed[0], replayed[1]), (400, bad[1]))
        self.assertEqual(self.control("GET", "/fakes/%s/created?kind=cus" % self.id)["ids"], ["cus_fake000001"])
        self.assertEqual([r["replayed"] for r in self.requests()], [False, True, False, False, False, True])

    def test_refunds_twice_and_amount_from_a_stubbed_payment_intent(self):
        self.control("POST", "/fakes/%s/objects" % self.id,
                     {"path": "/v1/payment_intents/pi_1", "json": '{"id":"pi_1","amount":1500,"currency":"eur"}'})
        status, refund = self.obj("POST", "/v1/refunds", "payment_intent=pi_1&reason=requested_by_customer")
        self.assertEqual((status, refund["id"], refund["amount"], refund["currency"], refund["charge"]),
                         (200, "re_fake000001", 1500, "eur", "ch_for_pi_1"))
        self.assertEqual(self.obj("POST", "/v1/refunds", "payment_intent=pi_1"), (400, {"error": {
            "type": "invalid_request_error", "code": "charge_already_refunded",
            "message": "Charge for pi_1 has already been refunded."}}))
        self.assertEqual(self.obj("POST", "/v1/refunds", "charge=ch_2")[1]["amount"], 999)
        self.assertEqual(self.obj("POST", "/v1/refunds", "charge=ch_3&reason=x")[1]["error"]["message"],
                         "Invalid reason: x")
        self.assertEqual(self.obj("POST", "/v1/refunds", "")[1]["error"]["param"], "payment_intent")

    def test_subscription_cancel_at_period_end_on_a_stub(self):
        self.control("POST", "/fakes/%s/objects" % self.id,
                     {"path": "/v1/subscriptions/sub_1", "json": '{"id": "sub_1", "status": "active"}'})
        self.assertEqual(self.stripe("GET", "/v1/subscriptions/sub_1")[1], b'{"id": "sub_1", "status": "active"}')
        status, data, _ = self.stripe("POST", "/v1/subscriptions/sub_1", "cancel_at_period_end=true")
        self.assertEqual((status, data), (200, b'{"cancel_at_period_end":true,"id":"sub_1","status":"active"}'))
        self.assertEqual(self.control("GET", "/fakes/%s/objects/sub_1" % self.id)["cancel_at_period_end"], True)
        self.assertEqual(self.obj("POST", "/v1/subscriptions/sub_1", "cancel_at_period_end=yes")[1]["error"]["code"],
                         "parameter_invalid_boolean")
        self.assertEqual(self.obj("POST", "/v1/subscriptions/sub_2", "")[1]["error"]["message"],
                         "No such subscription: 'sub_2'")

    def test_event_listing(self):
        raw = ['{"id":"evt_1","type":"invoice.paid","created":100}',
               '{ "id" : "evt_2", "type": "customer.subscription.deleted", "created": 200 }',
               '{"id":"evt_3","type":"invoice.paid","created":200}',
               '{"id":"evt_no_created","type":"invoice.paid"}',
               '{"id":"evt_4","type":"checkout.session.completed","created":50}']
        self.control("POST", "/fakes/%s/events" % self.id, {"events": raw})

        def listing(query):
            status, data, _ = self.stripe("GET", "/v1/events" + query)
            return status, data

        status, data = listing("")
        self.assertEqual(status, 200)
        self.assertEqual(data, ('{"object":"list","url":"/v1/events","has_more":false,"data":[%s]}' % ",\n  ".join(
            [raw[2], raw[1], raw[0], raw[4]])).encode())
        ids = lambda query: [e["id"] for e in json.loads(listing(query)[1])["data"]]  # noqa: E731
        self.assertEqual(ids("?created%5Bgte%5D=100"), ["evt_3", "evt_2", "evt_1"])
        self.assertEqual(ids("?types[]=invoice.paid&types[]=checkout.session.completed"), ["evt_3", "evt_1", "evt_4"])
        page = json.loads(listing("?limit=2")[1])
        self.assertEqual(([e["id"] for e in page["data"]], page["has_more"]), (["evt_3", "evt_2"], True))
        page = json.loads(listing("?limit=2&starting_after=evt_2")[1])
        self.assertEqual(([e["id"] for e in page["data"]], page["has_more"]), (["evt_1", "evt_4"], False))
        self.assertEqual(json.loads(listing("?starting_after=evt_9")[1])["error"]["message"], "No such event: 'evt_9'")
        for limit in ("0", "101"):
            self.assertEqual(json.loads(listing("?limit=" + limit)[1])["error"],
                             {"type": "invalid_request_error", "param": "limit",
                              "message": "limit must be between 1 and 100"})
        recorded = self.requests()[-1]
        self.assertEqual((recorded["query"], recorded["form"]), ("limit=101", [["limit", "101"]]))

    def test_faults(self):
        self.fault({"kind": "rate_limit"})
        status, body = self.obj("POST", "/v1/customers", "email=a", {"Idempotency-Key": "k"})
        self.assertEqual((status, body["error"]["code"]), (429, "rate_limit"))
        self.assertEqual(self.obj("POST", "/v1/customers", "email=a", {"Idempotency-Key": "k"})[0], 200)
        self.fault({"kind": "server_error"}, path="/v1/refunds")
        self.fault({"kind": "card_declined", "decline_code": "insufficient_funds"})
        self.assertEqual(self.obj("POST", "/v1/customers", "")[1], {"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card was declined."}})
        self.assertEqual(self.obj("POST", "/v1/refunds", "charge=c"), (500, {"error": {
            "type": "api_error", "message": "Something went wrong on Stripe's end (fake)."}}))
        self.fault({"kind": "error", "status": 409, "type": "api_error", "code": "lock_timeout", "message": "busy",
                    "headers": {"Retry-After": "1"}})
        status, data, headers = self.stripe("GET", "/v1/customers/cus_fake000001", None, {"Authorization": "no"})
        self.assertEqual((status, json.loads(data)["error"]["code"], headers["retry-after"]), (409, "lock_timeout", "1"))
        self.fault({"kind": "delay", "seconds": 0.1})
        started = time.monotonic()
        self.assertEqual(self.obj("GET", "/v1/customers/cus_fake000001")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.09)
        self.fault({"kind": "lost_response"})
        self.assertEqual(self.obj("POST", "/v1/customers", "email=z", {"Idempotency-Key": "lost"}), (500, {
            "error": {"type": "api_error", "message": "response lost (fake)"}}))
        status, body = self.obj("POST", "/v1/customers", "email=z", {"Idempotency-Key": "lost"})
        self.assertEqual((status, body["id"]), (200, "cus_fake000002"))
        self.fault({"kind": "rate_limit"}, count=0)
        self.assertEqual([(r["status"], r["fault"], r["replayed"]) for r in self.requests()], [
            (429, "rateLimit", False), (200, None, False), (402, "cardDeclined", False), (500, "serverError", False),
            (409, "error409", False), (200, "delay", False), (500, "lostResponse", False), (200, None, True)])
        self.control("POST", "/fakes/%s/faults" % self.id, {"fault": {"kind": "error", "status": 400}}, status=400)

    def test_recorded_requests(self):
        self.stripe("POST", "/v1/customers?expand[]=x", "email=a%40b&name=A+B&flag",
                    {"Stripe-Version": "2024-06-20"})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(conn.close)
        conn.putrequest("GET", "/v1/customers/cus_fake000001", skip_accept_encoding=True)
        for name, value in (("Authorization", AUTH["Authorization"]), ("X-Twice", "1"), ("x-twice", "2")):
            conn.putheader(name, value)
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 200)
        first, second = self.requests()
        self.assertEqual({k: first[k] for k in ("method", "path", "query", "form", "body", "status")}, {
            "method": "POST", "path": "/v1/customers", "query": "expand[]=x",
            "form": [["email", "a@b"], ["name", "A B"], ["flag", ""]], "body": "email=a%40b&name=A+B&flag",
            "status": 200})
        self.assertEqual((first["headers"]["authorization"], first["headers"]["stripe-version"]),
                         ("Bearer " + KEY, "2024-06-20"))
        self.assertEqual((second["query"], second["form"], second["body"]), (None, [], ""))
        self.assertEqual(second["headers"]["x-twice"], "1, 2")

    def test_reset(self):
        self.stripe("POST", "/v1/customers", "email=a", {"Idempotency-Key": "k"})
        self.control("POST", "/fakes/%s/events" % self.id, {"events": ['{"id":"e","type":"t","created":1}']})
        self.fault({"kind": "server_error"})
        self.assertEqual(self.control("POST", "/fakes/%s/reset" % self.id), {})
        self.assertEqual(self.requests(), [])
        status, body = self.obj("POST", "/v1/customers", "email=b", {"Idempotency-Key": "k"})
        self.assertEqual((status, body["id"]), (200, "cus_fake000001"))
        self.assertEqual(json.loads(self.stripe("GET", "/v1/events")[1])["data"], [])


if __name__ == "__main__":
    unittest.main()
