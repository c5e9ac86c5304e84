"""Loopback fakes for the browser test: the Telegram Bot API and Stripe, recording every call."""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def add(self, entry):
        with self.lock:
            self.calls.append(entry)

    def named(self, name):
        with self.lock:
            return [c for c in self.calls if c["name"] == name]


def _server(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_bot_api():
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            method = self.path.rsplit("/", 1)[-1]
            body = json.loads(raw or b"{}")
            recorder.add({"name": method, "body": body})
            if method == "createInvoiceLink":
                result = "https://t.me/$browser_test_invoice"
            elif method == "sendMessage":
                result = {"message_id": 1, "date": 0, "chat": {"id": body.get("chat_id", 0), "type": "private"}}
            else:
                result = True
            payload = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return _server(Handler), recorder


def start_stripe():
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs((self.rfile.read(length) if length else b"").decode())
            recorder.add({"name": self.path, "form": form, "idempotency_key": self.headers.get("Idempotency-Key")})
            if self.path == "/v1/customers":
                result = {"id": "cus_browser", "object": "customer"}
            elif self.path == "/v1/checkout/sessions":
                result = {"id": "cs_browser", "object": "checkout.session", "url": "https://checkout.stripe.test/cs_browser"}
            elif self.path == "/v1/billing_portal/sessions":
                result = {"id": "bps_browser", "object": "billing_portal.session", "url": "https://billing.stripe.test/p"}
            elif self.path == "/v1/refunds":
                # A full refund of the payment intent (or charge) named in the form (admin console test).
                target = (form.get("payment_intent") or form.get("charge") or [""])[0]
                result = {"id": "re_browser_" + str(len(recorder.named("/v1/refunds"))), "object": "refund",
                          "amount": getattr(recorder, "refund_amount", 0), "currency": "usd", "status": "succeeded",
                          "payment_intent": target if target.startswith("pi_") else None,
                          "charge": target if target.startswith("ch_") else None}
            elif self.path.startswith("/v1/subscriptions/"):
                result = {"id": self.path.rsplit("/", 1)[-1], "object": "subscription", "customer": "cus_browser",
                          "status": "active",
                          "cancel_at_period_end": form.get("cancel_at_period_end", ["false"])[0] == "true"}
            else:
                self.send_response(404)
                self.end_headers()
                return
            payload = json.dumps(result).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            # GET /v1/invoices/<id>: the payment intent that paid it (what a Stripe refund by invoice asks first).
            path = self.path.split("?", 1)[0]
            recorder.add({"name": "GET " + path, "form": {}, "idempotency_key": None})
            if not path.startswith("/v1/invoices/"):
                self.send_response(404)
                self.end_headers()
                return
            invoice_id = path.rsplit("/", 1)[-1]
            payload = json.dumps({"id": invoice_id, "object": "invoice", "payment_intent": "pi_for_" + invoice_id,
                                  "charge": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return _server(Handler), recorder
