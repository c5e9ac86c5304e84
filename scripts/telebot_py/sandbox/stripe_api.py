"""The sandbox's Stripe API (/v1/...): form bodies, Bearer key, Idempotency-Key replays the first answer."""
import base64
import hmac
import json
import re
import secrets
import threading
import urllib.parse

from ..fakes.stripe_routes import nested
from .common import log, new_id, now, page
from .checkout import public_session


class StripeApiRoutes:
    def route_stripe(self, method, path):
        if path.startswith("/v1/"):
            return self.stripe_api(method, path)
        match = re.fullmatch(r"/checkout/(cs_[A-Za-z0-9_]+)(/pay|/cancel)?", path)
        if match:
            session_id, action = match.group(1), match.group(2)
            if action == "/pay" and method == "POST":
                return self.checkout_pay(session_id)
            if action == "/cancel":
                with self.state.lock:
                    session = self.state.sessions.get(session_id)
                if session:
                    return self.redirect(session["cancel_url"])
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
            return self.send_html(200, page("telebot sandbox: Stripe", "<h1>Stripe stand-in</h1>"
                                            "<p class='muted'>API under /v1, Checkout pages under /checkout.</p>"))
        return self.stripe_error(404, f"Unrecognized request URL ({method}: {path}).")

    def stripe_error(self, status, message, kind="invalid_request_error", code=None, param=None):
        error = {"type": kind, "message": message}
        if code:
            error["code"] = code
        if param:
            error["param"] = param
        self.send_json(status, {"error": error}, {"Request-Id": new_id("req_")})

    def stripe_api(self, method, path):
        raw = self.read_body()
        auth = self.headers.get("Authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        if auth.startswith("Basic "):  # curl -u sk_test_...:
            try:
                key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        expected = self.config.stripe_api_key
        if not key or (expected and not hmac.compare_digest(key.encode(), expected.encode())) \
                or not (key.startswith("sk_") or key.startswith("rk_")):
            self.state.record("stripe", f"{method} {path}", 401)
            log(f"stripe {method} {path} -> 401 (missing or wrong API key)")
            return self.stripe_error(401, "Invalid API Key provided.")
        form = urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True) if raw else []
        form += urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        form = dict(form)
        idem = self.headers.get("Idempotency-Key")
        cache_key = (method, path, idem) if idem and method == "POST" else None
        if cache_key:
            with self.state.lock:
                cached = self.state.idempotent.get(cache_key)
            if cached:
                self.state.record("stripe", f"{method} {path}", cached[0], replayed=True)
                log(f"stripe {method} {path} -> {cached[0]} (idempotent replay)")
                return self.send(cached[0], cached[1], "application/json",
                                 {"Idempotent-Replayed": "true", "Request-Id": new_id("req_")})
        status, obj, summary = self.stripe_method(method, path, form)
        body = json.dumps(obj, separators=(",", ":")).encode()
        if cache_key and status < 500:
            with self.state.lock:
                self.state.idempotent[cache_key] = (status, body)
        self.state.record("stripe", f"{method} {path}", status, form=form, idempotency_key=bool(idem))
        log(f"stripe {method} {path} -> {status}{(' ' + summary) if summary else ''}")
        self.send(status, body, "application/json", {"Request-Id": new_id("req_")})

    def stripe_method(self, method, path, form):
        def missing(kind, ident):
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such {kind}: '{ident}'"}}, "resource_missing"

        if method == "POST" and path == "/v1/customers":
            customer = {"id": new_id("cus_"), "object": "customer", "created": now(), "livemode": False,
                        "email": form.get("email"), "name": form.get("name"), "metadata": nested(form, "metadata")}
            with self.state.lock:
                self.state.customers[customer["id"]] = customer
            return 200, customer, customer["id"]
        match = re.fullmatch(r"/v1/customers/(cus_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                customer = self.state.customers.get(match.group(1))
            return (200, customer, "") if customer else missing("customer", match.group(1))
        if method == "POST" and path == "/v1/checkout/sessions":
            return self.create_session(form)
        match = re.fullmatch(r"/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                session = self.state.sessions.get(match.group(1))
            return (200, public_session(session), "") if session else missing("checkout.session", match.group(1))
        if method == "POST" and path == "/v1/billing_portal/sessions":
            customer = form.get("customer")
            with self.state.lock:
                known = customer in self.state.customers
            if not customer:
                return 400, {"error": {"type": "invalid_request_error", "param": "customer",
                                       "message": "Missing required param: customer."}}, "no customer"
            if not known:
                return missing("customer", customer)
            portal = {"id": new_id("bps_"), "object": "billing_portal.session", "customer": customer,
                      "return_url": form.get("return_url"), "created": now(), "livemode": False}
            portal["url"] = f"{self.server.base_url}/portal/{portal['id']}"
            with self.state.lock:
                self.state.portals[portal["id"]] = portal
            return 200, portal, portal["id"]
        match = re.fullmatch(r"/v1/subscriptions/(sub_[A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self.state.lock:
                subscription = self.state.subscriptions.get(match.group(1))
            return (200, subscription, "") if subscription else missing("subscription", match.group(1))
        if method == "POST" and match:
            # Cancel / resume at period end, as the Mini App's buttons ask; Stripe then sends
            # customer.subscription.updated (delivered from a thread, after this answer).
            with self.state.lock:
                subscription = self.state.subscriptions.get(match.group(1))
                if subscription is not None and "cancel_at_period_end" in form:
                    subscription["cancel_at_period_end"] = form.get("cancel_at_period_end") == "true"
                    subscription = dict(subscription)
            if subscription is None:
                return missing("subscription", match.group(1))
            threading.Timer(0.2, self.deliver_stripe, args=("customer.subscription.updated", subscription)).start()
            return 200, subscription, subscription["id"]
        return 404, {"error": {"type": "invalid_request_error",
                               "message": f"Unrecognized request URL ({method}: {path})."}}, "unrecognized"

    def create_session(self, form):
        mode = form.get("mode")
        if mode not in ("subscription", "payment"):
            return 400, {"error": {"type": "invalid_request_error", "param": "mode",
                                   "message": "Invalid mode: must be one of payment, setup, or subscription"}}, "mode"
        for required in ("success_url", "line_items[0][price]"):
            if not form.get(required):
                return 400, {"error": {"type": "invalid_request_error", "param": required,
                                       "message": f"Missing required param: {required}."}}, required
        customer = form.get("customer")
        with self.state.lock:
            if customer and customer not in self.state.customers:
                customer = None
                unknown = form.get("customer")
            else:
                unknown = None
        if unknown:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "customer",
                                   "message": f"No such customer: '{unknown}'"}}, "resource_missing"
        price = form["line_items[0][price]"]
        quantity = int(form.get("line_items[0][quantity]") or 1)
        amount, currency, days = self.config.price(price)
        session_id = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": session_id, "object": "checkout.session", "mode": mode, "status": "open",
            "payment_status": "unpaid", "customer": customer, "client_reference_id": form.get("client_reference_id"),
            "metadata": nested(form, "metadata"), "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url") or form["success_url"], "amount_total": amount * quantity,
            "amount_subtotal": amount * quantity, "currency": currency, "created": now(), "livemode": False,
            "expires_at": now() + 86400, "subscription": None, "payment_intent": None, "invoice": None,
            "url": f"{self.server.base_url}/checkout/{session_id}",
            # Not part of Stripe's session object: what the line item and its metadata need at payment time.
            "_price": price, "_quantity": quantity, "_days": days,
            "_subscription_metadata": nested(form, "subscription_data[metadata]"),
            "_payment_metadata": nested(form, "payment_intent_data[metadata]"),
        }
        with self.state.lock:
            self.state.sessions[session_id] = session
        return 200, public_session(session), f"{session_id} {mode} {price} x{quantity}"
