"""The sandbox's Stripe pages: Checkout ("Pay" sends telebot the signed webhooks), billing portal, hosted invoice."""
import html
import json
import time

from .common import STRIPE_API_VERSION, log, money, new_id, now, page, post_json, stripe_signature


class CheckoutRoutes:
    def checkout_page(self, session_id):
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            session = dict(session) if session else None
        if session is None:
            return self.send_html(404, page("Checkout not found", "<h1>This checkout session does not exist</h1>"))
        plan = session["metadata"].get("plan") or session["_price"]
        every = ""
        if session["mode"] == "subscription":
            every = f"<p class='muted'>Billed every {session['_days']} days until cancelled.</p>"
        if session["status"] == "complete":
            action = (f"<p id='paid'>This session is already paid.</p>"
                      f"<a class='button' id='back' href='{html.escape(success_url(session))}'>Back to the app</a>")
        else:
            action = (f"<form method='post' action='/checkout/{session_id}/pay'>"
                      f"<label class='muted'>Card</label><div>4242 4242 4242 4242 &middot; 12/34 &middot; 123</div>"
                      f"<button id='pay' type='submit'>Pay {money(session['amount_total'], session['currency'])}"
                      f"</button></form><a class='button secondary' id='cancel' "
                      f"href='/checkout/{session_id}/cancel'>Cancel</a>")
        body = (f"<h1>{html.escape(plan)}</h1><p class='muted'>Price {html.escape(session['_price'])} &times; "
                f"{session['_quantity']}</p><div class='amount'>{money(session['amount_total'], session['currency'])}"
                f"</div>{every}{action}")
        self.send_html(200, page("Sandbox Checkout", body, banner="telebot sandbox: Stripe Checkout in test mode"))

    def checkout_pay(self, session_id):
        with self.state.lock:
            session = self.state.sessions.get(session_id)
            state = None if session is None else session["status"]
            if state == "open":
                session["status"] = "complete"  # claimed: a second click cannot pay twice
        if state is None:
            return self.checkout_page(session_id)
        if state == "complete":
            return self.redirect(success_url(session))
        with self.state.lock:
            t = now()
            if not session["customer"] and session["mode"] == "subscription":
                customer = {"id": new_id("cus_"), "object": "customer", "created": t, "livemode": False,
                            "email": None, "name": None, "metadata": {}}
                self.state.customers[customer["id"]] = customer
                session["customer"] = customer["id"]
            price = {"id": session["_price"], "object": "price", "active": True, "currency": session["currency"],
                     "unit_amount": session["amount_total"] // max(session["_quantity"], 1), "livemode": False}
            events = []
            if session["mode"] == "subscription":
                end = t + session["_days"] * 86400
                price["type"] = "recurring"
                price["recurring"] = {"interval": "year" if session["_days"] >= 365 else "month", "interval_count": 1}
                metadata = dict(session["_subscription_metadata"])
                subscription_id, invoice_id = new_id("sub_"), new_id("in_")
                subscription = {
                    "id": subscription_id, "object": "subscription", "customer": session["customer"],
                    "status": "active", "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None,
                    "ended_at": None, "created": t, "start_date": t, "current_period_start": t,
                    "current_period_end": end, "latest_invoice": invoice_id, "livemode": False, "metadata": metadata,
                    "items": {"object": "list", "has_more": False, "data": [{
                        "id": new_id("si_"), "object": "subscription_item", "price": price,
                        "quantity": session["_quantity"], "current_period_start": t, "current_period_end": end}]},
                }
                invoice = {
                    "id": invoice_id, "object": "invoice", "customer": session["customer"],
                    "subscription": subscription_id, "status": "paid", "paid": True,
                    "billing_reason": "subscription_create", "amount_due": session["amount_total"],
                    "amount_paid": session["amount_total"], "amount_remaining": 0, "currency": session["currency"],
                    "created": t, "period_start": t, "period_end": t, "livemode": False, "metadata": {},
                    "hosted_invoice_url": f"{self.server.base_url}/invoices/{invoice_id}",
                    "subscription_details": {"metadata": metadata},
                    "lines": {"object": "list", "has_more": False, "data": [{
                        "id": new_id("il_"), "object": "line_item", "type": "subscription",
                        "amount": session["amount_total"], "currency": session["currency"],
                        "period": {"start": t, "end": end}, "price": price, "quantity": session["_quantity"],
                        "subscription": subscription_id, "metadata": metadata}]},
                }
                session.update(payment_status="paid", subscription=subscription_id, invoice=invoice_id)
                self.state.subscriptions[subscription_id] = subscription
                self.state.invoices[invoice_id] = invoice
                events = [("checkout.session.completed", public_session(session)),
                          ("customer.subscription.created", subscription),
                          ("invoice.paid", invoice)]
            else:
                session.update(payment_status="paid", payment_intent=new_id("pi_"))
                events = [("checkout.session.completed", public_session(session))]
        results = [self.deliver_stripe(kind, obj) for kind, obj in events]
        failed = [r for r in results if r[1] != 200]
        if failed:
            rows = "".join(f"<tr><td>{html.escape(kind)}</td><td>{status or 'unreachable'} {html.escape(text[:120])}"
                           f"</td></tr>" for kind, status, text in results)
            body = (f"<h1>Paid, but telebot did not accept every webhook</h1><table id='deliveries'>{rows}</table>"
                    f"<a class='button' href='{html.escape(success_url(session))}'>Back to the app</a>")
            return self.send_html(502, page("Webhook delivery failed", body))
        self.redirect(success_url(session))

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
        with self.state.lock:
            portal = self.state.portals.get(portal_id)
            subscriptions = [dict(s) for s in self.state.subscriptions.values()
                             if portal and s["customer"] == portal["customer"]]
        if portal is None:
            return self.send_html(404, page("Portal session not found", "<h1>This portal session does not exist</h1>"))
        rows = []
        for sub in subscriptions:
            item = sub["items"]["data"][0]
            price = item["price"]
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
        self.send_html(200, page("Sandbox billing portal", body))

    def portal_cancel(self, portal_id, subscription_id):
        with self.state.lock:
            portal = self.state.portals.get(portal_id)
            sub = self.state.subscriptions.get(subscription_id)
            if not portal or not sub or sub["customer"] != portal["customer"]:
                sub = None
            elif sub["status"] != "canceled":
                t = now()
                sub.update(status="canceled", canceled_at=t, ended_at=t)
                sub = dict(sub)
            else:
                sub = None
        if sub is not None:
            self.deliver_stripe("customer.subscription.deleted", sub)
        self.redirect(portal["return_url"] if portal and portal.get("return_url") else f"/portal/{portal_id}")

    def hosted_invoice(self, invoice_id):
        with self.state.lock:
            invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return self.send_html(404, page("Invoice not found", "<h1>Invoice not found</h1>"))
        line = invoice["lines"]["data"][0]
        period = " to ".join(time.strftime("%Y-%m-%d", time.gmtime(line["period"][k])) for k in ("start", "end"))
        body = (f"<h1>Invoice {html.escape(invoice_id)}</h1><div class='amount'>"
                f"{money(invoice['amount_paid'], invoice['currency'])}</div><table>"
                f"<tr><td>Status</td><td>{html.escape(invoice['status'])}</td></tr>"
                f"<tr><td>Price</td><td>{html.escape(line['price']['id'])}</td></tr>"
                f"<tr><td>Period</td><td>{period}</td></tr></table>")
        self.send_html(200, page("Sandbox invoice", body))


def public_session(session):
    return {k: v for k, v in session.items() if not k.startswith("_")}


def success_url(session):
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
