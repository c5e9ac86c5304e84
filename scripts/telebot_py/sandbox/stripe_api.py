"""The sandbox's Stripe port: /v1/... is the fakes' StatefulStripe (key check, Idempotency-Key replays and
mismatches, customers, Checkout and portal sessions, GET of what it stores, subscription updates, refunds, error
bodies), recorded and logged here; the sandbox only plugs in its key policy, its ids, its pages' URLs and prices,
and the customer.subscription.updated webhook an update sends. The pages themselves are checkout.py's."""
import hmac
import json
import re
import secrets
import threading

from ..fakes import StatefulStripe, stripe_error
from ..fakes.server import swift_int
from ..fakes.stripe_events import decode_form
from ..fakes.stripe_routes import nested
from .checkout import CheckoutPages
from .common import HISTORY, log, new_id, now, page
from .server import SandboxService, html_answer, redirect

DAY = 86400


class StripeSandbox(CheckoutPages, SandboxService):
    kind = "stripe"

    def __init__(self, state):
        super().__init__(state)
        self.stripe = StatefulStripe(self.config.stripe_api_key, accepts_key=self.accepts_key, make_id=make_id,
                                     shape=self.shape, changed=self.changed, history=HISTORY)

    def accepts_key(self, key):
        """STRIPE_API_KEY exactly when it is set; otherwise any secret or restricted key (sk_..., rk_...)."""
        expected = self.config.stripe_api_key
        if expected:
            return hmac.compare_digest(key.encode(), expected.encode())
        return key.startswith(("sk_", "rk_"))

    def shape(self, kind, obj, fields):
        """A Checkout Session gets its price's amount and an expiry, and both kinds of session the URL of the
        sandbox's page; what the Checkout page and its Pay need later is kept aside (state.checkouts)."""
        if kind == "cs_test":
            price = fields.get("line_items[0][price]")
            quantity = swift_int(fields.get("line_items[0][quantity]") or "1") or 1
            amount, currency, days = self.config.price(price) if price else (0, "usd", 30)
            obj.update(amount_total=amount * quantity, amount_subtotal=amount * quantity, currency=currency,
                       expires_at=now() + DAY, payment_intent=None, invoice=None,
                       cancel_url=obj["cancel_url"] or obj["success_url"], url=f"{self.base_url}/checkout/{obj['id']}")
            with self.state.lock:
                self.state.checkouts[obj["id"]] = {
                    "price": price or "", "quantity": quantity, "days": days,
                    "subscription_metadata": nested(fields, "subscription_data[metadata]")}
        elif kind == "bps":
            obj["url"] = f"{self.base_url}/portal/{obj['id']}"

    def changed(self, kind, obj):
        """Cancel / resume at period end (the Mini App's buttons): Stripe then sends customer.subscription.updated,
        delivered from a thread once the answer is out."""
        if kind == "sub":
            threading.Timer(0.2, self.deliver_stripe, args=("customer.subscription.updated", obj)).start()

    def route(self, call):
        path, method = call.path, call.method
        if path.startswith("/v1/"):
            return self.api(call)
        match = re.fullmatch(r"/checkout/(cs_[A-Za-z0-9_]+)(/pay|/cancel)?", path)
        if match:
            session_id, action = match.group(1), match.group(2)
            if action == "/pay" and method == "POST":
                return self.checkout_pay(session_id)
            if action == "/cancel":
                session = self.session(session_id)
                if session:
                    return redirect(session["cancel_url"])
            return self.checkout_page(session_id)
        match = re.fullmatch(r"/portal/(bps_[A-Za-z0-9_]+)(?:/cancel/(sub_[A-Za-z0-9_]+))?", path)
        if match:
            if match.group(2) and method == "POST":
                return self.portal_cancel(match.group(1), match.group(2))
            return self.portal_page(match.group(1))
        match = re.fullmatch(r"/invoices/(in_[A-Za-z0-9_]+)", path)
        if match:
            return self.hosted_invoice(match.group(1))
        if path == "/":
            return html_answer(200, page("telebot sandbox: Stripe", "<h1>Stripe stand-in</h1>"
                                         "<p class='muted'>API under /v1, Checkout pages under /checkout.</p>"))
        return stripe_error(404, f"Unrecognized request URL ({method}: {path}).")

    def api(self, call):
        status, data, headers = self.stripe.answer(call)
        name = f"{call.method} {call.path}"
        if status == 401:
            self.state.record("stripe", name, 401)
            log(f"stripe {name} -> 401 (missing or wrong API key)")
            return status, data, headers
        replayed = headers.get("Idempotent-Replayed") == "true"
        form = dict(decode_form(call.body.decode("utf-8", "replace") if call.method != "GET" else call.raw_query or ""))
        if replayed:
            self.state.record("stripe", name, status, replayed=True)
        else:
            self.state.record("stripe", name, status, form=form,
                              idempotency_key=bool(call.headers.get("Idempotency-Key")))
        obj = decoded(data)
        said = (obj.get("error") or {}).get("message") if status >= 400 else obj.get("id")
        log(f"stripe {name} -> {status} {said or ''}{' (idempotent replay)' if replayed else ''}".rstrip())
        return status, data, headers


def decoded(data):
    try:
        obj = json.loads(data)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def make_id(kind):
    """Random ids, as Stripe's (a restarted sandbox must not hand out an id telebot already stored)."""
    if kind == "cs_test":
        return "cs_test_" + secrets.token_hex(16)
    return new_id(kind + "_")
