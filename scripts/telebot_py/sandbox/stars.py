"""The sandbox's Telegram Stars payment: the invoice page, "Pay" (pre_checkout_query, its answer, then
successful_payment, as Telegram sends them to telebot's webhook)."""
import html
import json
import secrets
import time

from .common import DEMO_FIRST_NAME, demo_user, log, money, new_id, now, page, post_json
from .server import html_answer, redirect


class StarsPages:
    """A mixin of TelegramSandbox: the page a createInvoiceLink link opens, and its Pay."""

    def stars_page(self, invoice_id):
        with self.state.lock:
            invoice = self.state.tg_invoices.get(invoice_id)
        if invoice is None:
            return html_answer(404, page("Invoice not found", "<h1>Invoice not found</h1>", accent="#2481cc"))
        total = sum(int(p["amount"]) for p in invoice["prices"])
        lines = "".join(f"<tr><td>{html.escape(str(p.get('label', '')))}</td><td>{money(int(p['amount']), invoice['currency'])}"
                        f"</td></tr>" for p in invoice["prices"])
        every = "<p class='muted'>Renews every 30 days until cancelled.</p>" if invoice["subscription_period"] else ""
        if invoice["paid"] == "pending":
            action = "<p id='pending'>Payment in progress&hellip; reload in a moment.</p>"
        elif invoice["paid"]:
            action = (f"<p id='paid'>Paid. Charge {html.escape(invoice['paid'])}.</p>"
                      f"<a class='button' id='back' href='{html.escape(self.config.miniapp_url)}'>Back to the app</a>")
        else:
            action = (f"<form method='post' action='/invoice/{invoice_id}/pay'>"
                      f"<button id='pay' type='submit'>Pay {total} Stars</button></form>"
                      f"<a class='button secondary' id='cancel' href='{html.escape(self.config.miniapp_url)}'>Cancel</a>")
        body = (f"<h1>{html.escape(invoice['title'])}</h1><p class='muted'>{html.escape(invoice['description'])}</p>"
                f"<table>{lines}</table><div class='amount'>{total} Stars</div>{every}"
                f"<p class='muted'>Paying as {DEMO_FIRST_NAME} (Telegram id {self.config.user_id}).</p>{action}")
        return html_answer(200, page("Telegram Stars invoice", body, accent="#2481cc", bg="#eef3f8",
                                     banner="telebot sandbox: Telegram Stars, no real Stars move"))

    def stars_pay(self, invoice_id):
        with self.state.lock:
            invoice = self.state.tg_invoices.get(invoice_id)
            already = invoice is not None and invoice["paid"] is not None
            if invoice is not None and not already:
                invoice["paid"] = "pending"  # claimed: a second click cannot pay twice
                invoice = dict(invoice)
        if invoice is None:
            return self.stars_page(invoice_id)
        if already:
            return redirect(self.return_url("invoice=paid"))
        try:
            charge_id, failure = self.stars_charge(invoice)
        finally:
            with self.state.lock:
                if self.state.tg_invoices[invoice_id]["paid"] == "pending":
                    self.state.tg_invoices[invoice_id]["paid"] = None
        if charge_id:
            with self.state.lock:
                self.state.tg_invoices[invoice_id]["paid"] = charge_id
            return redirect(self.return_url("invoice=paid"))
        return failure

    def stars_charge(self, invoice):
        """Runs Telegram's side of a Stars payment: (charge id, None), or (None, the error page to answer)."""
        config = self.config
        user = demo_user(config.user_id)
        total = sum(int(p["amount"]) for p in invoice["prices"])
        query_id = str(secrets.randbits(62))
        update = {"update_id": self.state.next_update_id(), "pre_checkout_query": {
            "id": query_id, "from": user, "currency": invoice["currency"], "total_amount": total,
            "invoice_payload": invoice["payload"]}}
        status, text = self.deliver_telegram(update, "pre_checkout_query")
        answer = None
        if status == 200:
            try:
                reply = json.loads(text or "{}")
            except ValueError:
                reply = {}
            if reply.get("method") == "answerPreCheckoutQuery" and str(reply.get("pre_checkout_query_id")) == query_id:
                self.state.remember_answer(query_id, reply)
                self.state.record("telegram", "answerPreCheckoutQuery", 200, via="webhook reply", ok=reply.get("ok"))
                log(f"telegram answerPreCheckoutQuery (webhook reply) ok={reply.get('ok')}")
        deadline = time.time() + 10  # Telegram cancels a payment whose pre-checkout query is not answered in 10 s
        with self.state.changed:
            while query_id not in self.state.answers and time.time() < deadline:
                self.state.changed.wait(deadline - time.time())
            answer = self.state.answers.pop(query_id, None)
        if answer is None or not answer["ok"]:
            reason = ("telebot did not answer the pre-checkout query within 10 s (webhook status "
                      f"{status})" if answer is None else (answer.get("error_message") or "refused"))
            log(f"stars payment refused: {reason}")
            body = (f"<h1>Payment failed</h1><p class='error' id='failure'>{html.escape(reason)}</p>"
                    f"<a class='button' href='{html.escape(config.miniapp_url)}'>Back to the app</a>")
            return None, html_answer(402, page("Payment failed", body, accent="#2481cc", bg="#eef3f8"))
        charge_id = new_id("stxsandbox", 24)
        payment = {"currency": invoice["currency"], "total_amount": total, "invoice_payload": invoice["payload"],
                   "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""}
        if invoice["subscription_period"]:
            payment.update({"subscription_expiration_date": now() + int(invoice["subscription_period"]),
                            "is_recurring": True, "is_first_recurring": True})
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"], "username": user["username"]}
        update = {"update_id": self.state.next_update_id(), "message": {
            "message_id": self.state.next_message_id(), "date": now(), "chat": chat, "from": user,
            "successful_payment": payment}}
        status, text = self.deliver_telegram(update, "successful_payment")
        if status != 200:
            body = (f"<h1>Payment not delivered</h1><p class='error' id='failure'>telebot answered {status} to the "
                    f"successful_payment update: {html.escape(text[:300])}</p>"
                    f"<a class='button' href='{html.escape(config.miniapp_url)}'>Back to the app</a>")
            return None, html_answer(502, page("Payment not delivered", body, accent="#2481cc", bg="#eef3f8"))
        return charge_id, None

    def return_url(self, query):
        base = self.config.miniapp_url.split("#", 1)[0]
        return base + ("&" if "?" in base else "?") + query

    def deliver_telegram(self, update, kind):
        body = json.dumps(update, separators=(",", ":")).encode()
        url = self.config.telebot_url + "/webhooks/telegram"
        status, text = post_json(url, body, {"X-Telegram-Bot-Api-Secret-Token": self.config.webhook_secret})
        self.state.record("webhook", kind, status, provider="telegram", update_id=update["update_id"])
        log(f"-> telebot POST /webhooks/telegram {kind} update {update['update_id']} -> {status or 'unreachable'}")
        return status, text
