"""The sandbox's Stripe pages: Checkout ("Pay" sends telebot the signed webhooks), billing portal, hosted invoice.
A mixin of StripeSandbox: what they show and change is in its StatefulStripe (self.stripe), so the API then answers
GET of a paid session, its subscription and its invoice, and updates that subscription, like Stripe."""
import html
import json
import time

from .common import STRIPE_API_VERSION, log, money, new_id, now, page, post_json, stripe_signature
from .server import html_answer, redirect

SESSIONS, SUBSCRIPTIONS = "/v1/checkout/sessions/", "/v1/subscriptions/"


class CheckoutPages:
    def session(self, session_id):
        return self.stripe.object_at(SESSIONS + session_id)

    def checkout_page(self, session_id):
        session = self.session(session_id)
        if session is None:
            return html_answer(404, page("Checkout not found", "<h1>This checkout session does not exist</h1>"))
        extra = self.checkout_extra(session_id)
        plan = session["metadata"].get("plan") or extra["price"]
        every = ""
        if session["mode"] == "subscription":
            every = f"<p class='muted'>Billed every {extra['days']} days until cancelled.</p>"
        total = money(session.get("amount_total", 0), session.get("currency", "usd"))
        if session["status"] == "complete":
            action = (f"<p id='paid'>This session is already paid.</p>"
                      f"<a class='button' id='back' href='{html.escape(success_url(session))}'>Back to the app</a>")
        else:
            action = (f"<form method='post' action='/checkout/{session_id}/pay'>"
                      f"<label class='muted'>Card</label><div>4242 4242 4242 4242 &middot; 12/34 &middot; 123</div>"
                      f"<button id='pay' type='submit'>Pay {total}</button></form><a class='button secondary' "
                      f"id='cancel' href='/checkout/{session_id}/cancel'>Cancel</a>")
        body = (f"<h1>{html.escape(plan)}</h1><p class='muted'>Price {html.escape(extra['price'])} &times; "
                f"{extra['quantity']}</p><div class='amount'>{total}</div>{every}{action}")
        return html_answer(200, page("Sandbox Checkout", body, banner="telebot sandbox: Stripe Checkout in test mode"))

    def checkout_extra(self, session_id):
        with self.state.lock:
            return self.state.checkouts.get(session_id) or {"price": "", "quantity": 1, "days": 30,
                                                            "subscription_metadata": {}}

    def checkout_pay(self, session_id):
        before = []

        def claim(session):  # one step: a second click cannot pay twice
            before.append(session)
            return dict(session, status="complete") if session and session["status"] == "open" else None

        self.stripe.update(SESSIONS + session_id, claim)
        session = before[0]
        if session is None:
            return self.checkout_page(session_id)
        if session["status"] != "open":
            return redirect(success_url(session))
        session["status"] = "complete"
        extra = self.checkout_extra(session_id)
        events = self.paid(session, extra)
        self.stripe.update(SESSIONS + session_id, lambda _: session)
        results = [self.deliver_stripe(kind, obj) for kind, obj in events]
        if any(status != 200 for _, status, _ in results):
            rows = "".join(f"<tr><td>{html.escape(kind)}</td><td>{status or 'unreachable'} {html.escape(text[:120])}"
                           f"</td></tr>" for kind, status, text in results)
            body = (f"<h1>Paid, but telebot did not accept every webhook</h1><table id='deliveries'>{rows}</table>"
                    f"<a class='button' href='{html.escape(success_url(session))}'>Back to the app</a>")
            return html_answer(502, page("Webhook delivery failed", body))
        return redirect(success_url(session))

    def paid(self, session, extra):
        """Marks `session` paid and stores what Stripe would create with it: for a subscription its customer (when
        it had none), the subscription and its first invoice, with the price and the period on its line. Returns the
        events Stripe sends for it."""
        t, amount, currency, quantity = now(), session["amount_total"], session["currency"], extra["quantity"]
        if session["mode"] != "subscription":
            session.update(payment_status="paid", payment_intent=new_id("pi_"))
            return [("checkout.session.completed", session)]
        if not session["customer"]:
            customer = {"id": new_id("cus_"), "object": "customer", "created": t, "livemode": False,
                        "email": None, "name": None, "metadata": {}}
            self.stripe.update("/v1/customers/" + customer["id"], lambda _: customer)
            session["customer"] = customer["id"]
        end = t + extra["days"] * 86400
        price = {"id": extra["price"], "object": "price", "active": True, "currency": currency, "livemode": False,
                 "unit_amount": amount // max(quantity, 1), "type": "recurring",
                 "recurring": {"interval": "year" if extra["days"] >= 365 else "month", "interval_count": 1}}
        metadata = dict(extra["subscription_metadata"])
        subscription_id, invoice_id = new_id("sub_"), new_id("in_")
        subscription = {
            "id": subscription_id, "object": "subscription", "customer": session["customer"], "status": "active",
            "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None, "ended_at": None, "created": t,
            "start_date": t, "current_period_start": t, "current_period_end": end, "latest_invoice": invoice_id,
            "livemode": False, "metadata": metadata,
            "items": {"object": "list", "has_more": False, "data": [{
                "id": new_id("si_"), "object": "subscription_item", "price": price, "quantity": quantity,
                "current_period_start": t, "current_period_end": end}]},
        }
        invoice = {
            "id": invoice_id, "object": "invoice", "customer": session["customer"], "subscription": subscription_id,
            "status": "paid", "paid": True, "billing_reason": "subscription_create", "amount_due": amount,
            "amount_paid": amount, "amount_remaining": 0, "currency": currency, "created": t, "period_start": t,
            "period_end": t, "livemode": False, "metadata": {},
            "hosted_invoice_url": f"{self.base_url}/invoices/{invoice_id}", "subscription_details": {"metadata": metadata},
            "lines": {"object": "list", "has_more": False, "data": [{
                "id": new_id("il_"), "object": "line_item", "type": "subscription", "amount": amount,
                "currency": currency, "period": {"start": t, "end": end}, "price": price, "quantity": quantity,
                "subscription": subscription_id, "metadata": metadata}]},
        }
        session.update(payment_status="paid", subscription=subscription_id, invoice=invoice_id)
        self.stripe.update(SUBSCRIPTIONS + subscription_id, lambda _: subscription)
        self.stripe.update("/v1/invoices/" + invoice_id, lambda _: invoice)
        return [("checkout.session.completed", session), ("customer.subscription.created", subscription),
                ("invoice.paid", invoice)]

    def deliver_stripe(self, kind, obj):
        config = self.config
        event = {"id": new_id("evt_", 24), "object": "event", "api_version": STRIPE_API_VERSION, "created": now(),
                 "livemode": False, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                 "type": kind, "data": {"object": obj}}
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Stripe-Signature": stripe_signature(config.stripe_webhook_secret, body, now()),
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
        status, text = post_json(config.telebot_url + "/webhooks/stripe", body, headers)
        outcome = ""
        try:
            outcome = json.loads(text).get("outcome", "")
        except (ValueError, AttributeError):
            pass
        self.state.record("webhook", kind, status, provider="stripe", event_id=event["id"], outcome=outcome,
                          object_id=obj.get("id"))
        log(f"-> telebot POST /webhooks/stripe {kind} {event['id']} -> {status or 'unreachable'} {outcome}".rstrip())
        return kind, status, text

    def portal_page(self, portal_id):
        portal = self.stripe.object_at("/v1/billing_portal/sessions/" + portal_id)
        if portal is None:
            return html_answer(404, page("Portal session not found", "<h1>This portal session does not exist</h1>"))
        rows = []
        for sub in self.stripe.objects(SUBSCRIPTIONS):
            if sub.get("customer") != portal["customer"] or "items" not in sub:
                continue
            price = sub["items"]["data"][0]["price"]
            ends = time.strftime("%Y-%m-%d", time.gmtime(sub["current_period_end"]))
            cancel = ""
            if sub["status"] not in ("canceled", "incomplete_expired"):
                cancel = (f"<form method='post' action='/portal/{portal_id}/cancel/{sub['id']}'>"
                          f"<button class='cancel-subscription' type='submit'>Cancel subscription</button></form>")
            rows.append(f"<div><b>{html.escape(sub['metadata'].get('plan') or price['id'])}</b> "
                        f"<span class='muted'>{money(price['unit_amount'], price['currency'])} &middot; "
                        f"{html.escape(sub['status'])} &middot; period ends {ends}</span>{cancel}</div>")
        listing = "".join(rows) or "<p class='muted'>No subscriptions.</p>"
        body = (f"<h1>Billing portal</h1><p class='muted'>Customer {html.escape(portal['customer'])}</p>{listing}"
                f"<a class='button secondary' id='return' href='{html.escape(portal['return_url'] or '/')}'>"
                f"Return to the app</a>")
        return html_answer(200, page("Sandbox billing portal", body))

    def portal_cancel(self, portal_id, subscription_id):
        portal = self.stripe.object_at("/v1/billing_portal/sessions/" + portal_id)

        def cancel(sub):
            if not portal or not sub or sub.get("customer") != portal["customer"] or sub.get("status") == "canceled":
                return None
            t = now()
            return dict(sub, status="canceled", canceled_at=t, ended_at=t)

        sub = self.stripe.update(SUBSCRIPTIONS + subscription_id, cancel)
        if sub is not None:
            self.deliver_stripe("customer.subscription.deleted", sub)
        return redirect(portal["return_url"] if portal and portal.get("return_url") else f"/portal/{portal_id}")

    def hosted_invoice(self, invoice_id):
        invoice = self.stripe.object_at("/v1/invoices/" + invoice_id)
        if invoice is None or "lines" not in invoice:
            return html_answer(404, page("Invoice not found", "<h1>Invoice not found</h1>"))
        line = invoice["lines"]["data"][0]
        period = " to ".join(time.strftime("%Y-%m-%d", time.gmtime(line["period"][k])) for k in ("start", "end"))
        body = (f"<h1>Invoice {html.escape(invoice_id)}</h1><div class='amount'>"
                f"{money(invoice['amount_paid'], invoice['currency'])}</div><table>"
                f"<tr><td>Status</td><td>{html.escape(invoice['status'])}</td></tr>"
                f"<tr><td>Price</td><td>{html.escape(line['price']['id'])}</td></tr>"
                f"<tr><td>Period</td><td>{period}</td></tr></table>")
        return html_answer(200, page("Sandbox invoice", body))


def success_url(session):
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
