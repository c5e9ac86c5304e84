"""Stripe events as the drill sends them: invoice.paid in both API shapes, refunds and disputes, and the set of
invoices with their fates (what the database must show at the end)."""
import collections
import json
import threading
import time

from .config import (REVERSED_USERS_PER, STRIPE_LOST_RATE, STRIPE_PRICE, STRIPE_REFUND_RATE, STRIPE_TG_BASE,
                     STRIPE_USERS, STRIPE_WON_RATE)


def stripe_invoice_event(event_id, k, user, period_end, shape, invoice_id, payment_refs):
    """payment_refs: (payment intent, charge) carried by the invoice object, or None."""
    period_start = period_end - 30 * 86400
    customer = "cus_drill_%d" % user
    subscription = "sub_drill_%d" % user
    created = int(time.time()) - 60
    line = {"id": "il_drill_%d" % k, "object": "line_item", "amount": 999, "currency": "usd",
            "period": {"start": period_start, "end": period_end}, "metadata": {}, "quantity": 1}
    invoice = {"id": invoice_id, "object": "invoice", "customer": customer, "status": "paid", "amount_due": 999,
               "amount_paid": 999, "amount_remaining": 0, "currency": "usd", "created": created,
               "hosted_invoice_url": "https://invoice.stripe.com/i/%s" % invoice_id,
               "period_start": period_start - 30 * 86400, "period_end": period_start, "metadata": {},
               "livemode": False, "billing_reason": "subscription_cycle"}
    if payment_refs is not None:
        invoice["payment_intent"], invoice["charge"] = payment_refs
    if shape == "classic":
        api_version = "2024-06-20"
        line["price"] = {"id": STRIPE_PRICE, "object": "price", "recurring": {"interval": "month"}}
        line["subscription"] = subscription
        invoice["subscription"] = subscription
        invoice["subscription_details"] = {"metadata": {}}
    else:
        api_version = "2025-03-31.basil"
        line["pricing"] = {"type": "price_details", "price_details": {"price": STRIPE_PRICE, "product": "prod_drill"}}
        line["parent"] = {"type": "subscription_item_details",
                          "subscription_item_details": {"subscription": subscription, "subscription_item": "si_drill"}}
        invoice["parent"] = {"type": "subscription_details",
                             "subscription_details": {"subscription": subscription, "metadata": {}}}
    invoice["lines"] = {"object": "list", "data": [line], "has_more": False}
    event = {"id": event_id, "object": "event", "type": "invoice.paid", "created": created,
             "livemode": False, "api_version": api_version, "pending_webhooks": 1,
             "request": {"id": None, "idempotency_key": None}, "data": {"object": invoice}}
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_event(event_id, event_type, api_version, obj):
    created = int(time.time()) - 30
    event = {"id": event_id, "object": "event", "type": event_type, "created": created, "livemode": False,
             "api_version": api_version, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": obj}}
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_refund_event(event_id, user, invoice_id, payment_intent, charge, shape):
    """charge.refunded, fully refunded. classic: the charge names its invoice; current (API 2025-03-31 on): only
    the charge and its payment intent."""
    obj = {"id": charge, "object": "charge", "amount": 999, "amount_captured": 999, "amount_refunded": 999,
           "captured": True, "refunded": True, "currency": "usd", "customer": "cus_drill_%d" % user,
           "payment_intent": payment_intent, "status": "succeeded", "metadata": {}, "livemode": False}
    if shape == "classic":
        obj["invoice"] = invoice_id
        return stripe_event(event_id, "charge.refunded", "2024-06-20", obj)
    return stripe_event(event_id, "charge.refunded", "2025-03-31.basil", obj)


def stripe_dispute_event(event_id, event_type, dispute_id, payment_intent, charge, status):
    obj = {"id": dispute_id, "object": "dispute", "amount": 999, "currency": "usd", "charge": charge,
           "payment_intent": payment_intent, "reason": "fraudulent", "status": status, "livemode": False,
           "metadata": {}}
    return stripe_event(event_id, event_type, "2025-03-31.basil", obj)


FATES = ("refund_classic", "refund_current", "dispute_lost", "dispute_won")
# The grant state each fate leaves (None: no reversal).
FATE_STATE = {None: "active", "refund_classic": "refunded", "refund_current": "refunded",
              "dispute_lost": "charged_back", "dispute_won": "active"}


class StripeSet:
    """Unique invoice.paid events, each for one of STRIPE_USERS users (by customer id, plan by price id), each
    with its own period end, and the refund and dispute events of some of those invoices (their fate). The expected
    expiry of a user is the latest period end of its live invoices (not refunded, no dispute lost)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.base = int(time.time()) + 40 * 86400
        self.bodies = {}
        self.invoices = {}  # invoice id -> (user, period end, fate, invoice.paid event id)
        self.events = collections.Counter()  # event kind -> unique events
        self.reversed_users = set()  # users whose every invoice is reversed
        self.next_k = 0
        self.lock = threading.Lock()

    def _invoice(self, k, tag, user, fate):
        suffix = "%s%06d" % (tag, k)
        event_id = "evt_drill_" + suffix
        invoice_id = "in_drill_" + suffix
        payment_intent, charge = "pi_drill_" + suffix, "ch_drill_" + suffix
        period_end = self.base + k * 61
        # An invoice refunded through a charge that names it carries no payment ids (the refund can only find it by
        # `in:`); every other invoice carries its payment intent and charge, as refunds and disputes name those.
        refs = None if fate == "refund_classic" else (payment_intent, charge)
        self.bodies[event_id] = stripe_invoice_event(event_id, k, user, period_end,
                                                     "classic" if k % 2 == 0 else "current", invoice_id, refs)
        self.invoices[invoice_id] = (user, period_end, fate, event_id)
        self.events["invoice.paid"] += 1
        self.ctx.invoice_of_payment_intent[payment_intent] = invoice_id
        ids = [event_id]
        if fate in ("refund_classic", "refund_current"):
            shape = fate.split("_")[1]
            rid = "evt_drill_%s_refund" % suffix
            self.bodies[rid] = stripe_refund_event(rid, user, invoice_id, payment_intent, charge, shape)
            self.events["charge.refunded (%s)" % shape] += 1
            ids.append(rid)
        elif fate in ("dispute_lost", "dispute_won"):
            dispute = "dp_drill_" + suffix
            opened, closed = "evt_drill_%s_dispute_created" % suffix, "evt_drill_%s_dispute_closed" % suffix
            self.bodies[opened] = stripe_dispute_event(opened, "charge.dispute.created", dispute, payment_intent,
                                                       charge, "needs_response")
            self.bodies[closed] = stripe_dispute_event(closed, "charge.dispute.closed", dispute, payment_intent,
                                                       charge, fate.split("_")[1])
            self.events["dispute %s (created + closed)" % fate.split("_")[1]] += 2
            ids += [opened, closed]
        return ids

    def make_with_reversals(self, n, tag, rng):
        """n invoices for users k % STRIPE_USERS; one user in REVERSED_USERS_PER loses every invoice (refunded or
        dispute lost), then others are picked at random up to the refund and dispute rates. Returns every event id
        (invoices and reversals)."""
        ks = list(range(self.next_k, self.next_k + n))
        self.next_k += n
        user_of = {k: k % STRIPE_USERS for k in ks}
        users = sorted(set(user_of.values()))
        # |=: a user that lost every invoice in an earlier phase loses the new ones too (stays `revoked`).
        self.reversed_users |= set(rng.sample(users, max(1, len(users) // REVERSED_USERS_PER)))
        fate = {}
        cycle = ("refund_classic", "refund_current", "dispute_lost")
        for i, k in enumerate(k for k in ks if user_of[k] in self.reversed_users):
            fate[k] = cycle[i % len(cycle)]
        want = {"refund": round(n * STRIPE_REFUND_RATE), "dispute_lost": round(n * STRIPE_LOST_RATE),
                "dispute_won": round(n * STRIPE_WON_RATE)}
        used = collections.Counter(fate.values())
        used["refund"] = used["refund_classic"] + used["refund_current"]
        rest = [k for k in ks if k not in fate]
        rng.shuffle(rest)
        pos = 0
        for kind in ("refund", "dispute_lost", "dispute_won"):
            for _ in range(max(0, want[kind] - used[kind])):
                if pos >= len(rest):
                    break
                k = rest[pos]
                pos += 1
                if kind == "refund":
                    fate[k] = "refund_classic" if used["refund_classic"] <= used["refund_current"] else "refund_current"
                    used[fate[k]] += 1
                else:
                    fate[k] = kind
        ids = []
        for k in ks:
            ids += self._invoice(k, tag, user_of[k], fate.get(k))
        return ids

    def make(self, n, tag):
        """n more invoice.paid events, no reversals, for users that keep access (thread-safe)."""
        ids = []
        with self.lock:
            for _ in range(n):
                k = self.next_k
                self.next_k += 1
                user = k % STRIPE_USERS
                while user in self.reversed_users:
                    user = (user + 1) % STRIPE_USERS
                ids += self._invoice(k, tag, user, None)
        return ids

    def fates(self):
        return collections.Counter(f for _, _, f, _ in self.invoices.values() if f is not None)

    def expected(self):
        """user -> ("active", latest live period end) or ("revoked", None)."""
        live, users = {}, set()
        for user, period_end, fate, _ in self.invoices.values():
            users.add(user)
            if FATE_STATE[fate] == "active":
                live[user] = max(live.get(user, 0), period_end)
        return {u: ("active", live[u]) if u in live else ("revoked", None) for u in users}



def stripe_request(ctx, stripe_set):
    def request_for(d):
        body = stripe_set.bodies[d.key]
        return "POST", "/webhooks/stripe", body, {
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": ctx.stripe_signature(body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    return request_for


def seed_stripe_users(ctx):
    ctx.psql("""
        INSERT INTO users (telegram_user_id, first_name, username)
        SELECT %d + g, 'Stripe drill ' || g, 'stripe_drill_' || g FROM generate_series(0, %d) g;
        INSERT INTO stripe_customers (user_id, customer_id)
        SELECT id, 'cus_drill_' || (telegram_user_id - %d) FROM users
        WHERE telegram_user_id BETWEEN %d AND %d;
    """ % (STRIPE_TG_BASE, STRIPE_USERS - 1, STRIPE_TG_BASE, STRIPE_TG_BASE, STRIPE_TG_BASE + STRIPE_USERS - 1))

