"""The payments of the reconciliation phase (undelivered, once, twice), their webhook bodies and listings, the order
they are sent in, and the phase's database."""
import json
import os
import subprocess
import time

from ..stars import stars_update as drill_stars_update
from ..stripe_events import stripe_invoice_event
from .settings import (DB, DUP_UPDATE_BASE, STARS_PLAN, STARS_PRICE, STARS_USERS, STRIPE_USERS, TG_STARS_BASE,
                       TG_STRIPE_BASE, TWICE_RATE, UNDELIVERED_RATE, UPDATE_BASE)


def rpsql(ctx, sql):
    """psql against the phase's database."""
    return ctx.psql(sql, db=DB)


def prepare_database(ctx):
    """CREATE DATABASE telebot_reconcile, migrate up, plans sync, Stripe users and their customer ids. Returns its
    DATABASE_URL."""
    ctx.psql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;" % (DB, DB))
    url = ctx.cfg.database_url.replace("dbname=telebot_drill", "dbname=" + DB)
    if url == ctx.cfg.database_url:
        raise RuntimeError("cannot derive the reconcile database's URL from %r" % ctx.cfg.database_url)
    env = dict(ctx.cfg.env, DATABASE_URL=url)
    with open(os.path.join(ctx.cfg.out, "migrate-reconcile.log"), "wb") as log:
        for args in (["migrate", "up", "--dir", os.path.join(ctx.cfg.root, "sql")],
                     ["plans", "sync", "--file", os.path.join(ctx.cfg.root, "plans.example.json")]):
            res = subprocess.run([ctx.cfg.bin] + args, env=env, cwd=ctx.cfg.root, stdout=log, stderr=subprocess.STDOUT,
                                 timeout=120)
            if res.returncode != 0:
                raise RuntimeError("telebot %s failed (exit %d); log: %s" % (" ".join(args[:2]), res.returncode,
                                                                              log.name))
    rpsql(ctx, """
        INSERT INTO users (telegram_user_id, first_name, username)
        SELECT %d + g, 'Reconcile drill ' || g, 'reconcile_drill_' || g FROM generate_series(0, %d) g;
        INSERT INTO stripe_customers (user_id, customer_id)
        SELECT id, 'cus_drill_' || (telegram_user_id - %d) FROM users WHERE telegram_user_id BETWEEN %d AND %d;
    """ % (TG_STRIPE_BASE, STRIPE_USERS - 1, TG_STRIPE_BASE, TG_STRIPE_BASE, TG_STRIPE_BASE + STRIPE_USERS - 1))
    return url


class Payment:
    __slots__ = ("provider", "pid", "user", "fate", "bodies", "publish", "published", "delivered", "extra")

    def __init__(self, provider, pid, user, fate):
        self.provider = provider  # "stripe" or "telegram_stars"
        self.pid = pid  # Stripe event id or Stars charge id: the ledger's event_id
        self.user = user
        self.fate = fate  # "undelivered", "once", "twice"
        self.bodies = []  # webhook bodies, one per delivery
        self.publish = None  # callable: lists the payment at the fake provider
        self.published = False
        self.delivered = False
        self.extra = {}


def fates(n, rng):
    undelivered = round(n * UNDELIVERED_RATE)
    twice = round(n * TWICE_RATE)
    out = ["undelivered"] * undelivered + ["twice"] * twice + ["once"] * (n - undelivered - twice)
    rng.shuffle(out)
    return out


def make_stripe(ctx, fake, n, rng):
    payments = []
    base = int(time.time()) + 40 * 86400
    for k, fate in enumerate(fates(n, rng)):
        suffix = "rec%06d" % k
        event_id, invoice_id = "evt_drill_" + suffix, "in_drill_" + suffix
        user = k % STRIPE_USERS
        period_end = base + k * 61
        body = stripe_invoice_event(event_id, k, user, period_end, "classic" if k % 2 == 0 else "current",
                                      invoice_id, ("pi_drill_" + suffix, "ch_drill_" + suffix))
        created = json.loads(body)["created"]
        p = Payment("stripe", event_id, user, fate)
        p.extra = {"invoice": invoice_id, "period_end": period_end}
        if fate != "undelivered":
            p.bodies = [body] * (2 if fate == "twice" else 1)
        p.publish = (lambda event_id=event_id, created=created, body=body:
                     fake.publish_event(event_id, "invoice.paid", created, body))
        payments.append(p)
    return payments


def make_stars(ctx, fake, n, rng):
    payments = []
    for k, fate in enumerate(fates(n, rng)):
        user = k % STARS_USERS
        tg = TG_STARS_BASE + user
        charge = "strec%07d" % k
        payload = ctx.stars_payload(STARS_PLAN, tg)
        p = Payment("telegram_stars", charge, user, fate)
        if fate != "undelivered":
            first = stars_update(ctx, UPDATE_BASE + k, k + 1, user, charge, payload)
            p.bodies = [first]
            if fate == "twice":
                # Half the same update again, half the same charge in a new update.
                p.bodies.append(first if k % 2 == 0 else stars_update(ctx, DUP_UPDATE_BASE + k, 500_000 + k, user,
                                                                      charge, payload))
        p.publish = (lambda charge=charge, tg=tg, user=user, payload=payload: fake.publish_transaction({
            "id": charge, "amount": STARS_PRICE, "date": int(time.time()),
            "source": {"type": "user", "transaction_type": "invoice_payment", "invoice_payload": payload,
                       "user": {"id": tg, "is_bot": False, "first_name": "Stars", "last_name": "Drill %d" % user,
                                "username": "stars_drill_%d" % user, "language_code": "en"}}}))
        payments.append(p)
    return payments


def stars_update(ctx, update_id, message_id, user, charge, payload):
    # The drill's stars_update (users STARS_TG_BASE + user): shift the user so the ids are this phase's own.
    body = json.loads(drill_stars_update(update_id, message_id, user, charge, payload))
    tg = TG_STARS_BASE + user
    body["message"]["from"]["id"] = tg
    body["message"]["chat"]["id"] = tg
    return json.dumps(body, separators=(",", ":")).encode()


def action_sequence(payments, rng):
    """One action per delivery or skip: ("deliver", payment, body index) / ("skip", payment, None). Each payment's
    first action in random order; the second delivery of a "twice" payment right after it (a third of them, racing
    on another instance) or at a random later place."""
    order = list(payments)
    rng.shuffle(order)
    seq = []
    later = []
    for p in order:
        if p.fate == "undelivered":
            seq.append(("skip", p, None))
            continue
        seq.append(("deliver", p, 0))
        if p.fate == "twice":
            if rng.random() < 1 / 3:
                seq.append(("deliver", p, 1))
            else:
                later.append((len(seq), p))
    for pos, p in later:
        seq.insert(rng.randrange(pos, len(seq) + 1), ("deliver", p, 1))
    return seq
