"""Telegram Stars updates as the drill sends them: successful_payment and refunded_payment, signed invoice payloads,
duplicates (the same update again or the same charge in a new update), and the set of charges sent."""
import collections
import json
import time

from .config import (DUP_RATE, DUP_UPDATE_BASE, REFUND_UPDATE_BASE, REVERSED_USERS_PER, STARS_PLAN, STARS_PRICE,
                     STARS_REFUND_RATE, STARS_TG_BASE, STARS_USERS, UPDATE_BASE)
from .engine import Delivery, with_duplicates


def stars_message(update_id, message_id, user, content_key, content):
    tg = STARS_TG_BASE + user
    update = {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()),
        "from": {"id": tg, "is_bot": False, "first_name": "Stars", "last_name": "Drill %d" % user,
                 "username": "stars_drill_%d" % user, "language_code": "en"},
        "chat": {"id": tg, "type": "private", "first_name": "Stars", "username": "stars_drill_%d" % user},
        content_key: content}}
    return json.dumps(update, separators=(",", ":")).encode()


def stars_update(update_id, message_id, user, charge_id, payload):
    return stars_message(update_id, message_id, user, "successful_payment", {
        "currency": "XTR", "total_amount": STARS_PRICE, "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""})


def stars_refund_update(update_id, message_id, user, charge_id, payload):
    return stars_message(update_id, message_id, user, "refunded_payment", {
        "currency": "XTR", "total_amount": STARS_PRICE, "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id})


class TelegramSet:
    """What telegram_deliveries sent: unique charges, which of them were refunded, update ids."""

    def __init__(self):
        self.charges = {}  # charge id -> (user, refunded)
        self.update_ids = set()
        self.reversed_users = set()
        self.new_updates = 0
        self.deliveries = []

    @property
    def unique(self):
        return len(self.charges)

    @property
    def refunded(self):
        return sum(1 for _, r in self.charges.values() if r)

    def expected(self):
        """user -> live charges (0: every charge refunded, the user must read `revoked`)."""
        live = collections.Counter()
        for user, refunded in self.charges.values():
            live[user] += 0 if refunded else 1
        return live


def telegram_deliveries(ctx, total, rng, tset=None, start=0):
    """Unique charges (each in its own update) and refunded_payment updates (each in an update of its own) for ~10 %
    of them (every charge of one user in REVERSED_USERS_PER), in random order, plus duplicates: half the same update
    again, half the same charge or refund in a new update (a new update_id). With `tset` and `start` (> the charges
    of earlier calls), adds more charges to that set (later phases); its `deliveries` are then this call's."""
    if tset is None:
        tset = TelegramSet()
    unique_events = max(1, round(total / (1 + DUP_RATE)))
    unique = max(1, round(unique_events / (1 + STARS_REFUND_RATE)))
    ks = range(start, start + unique)
    user_of = {k: k % STARS_USERS for k in ks}
    users = sorted(set(user_of.values()))
    # A user that lost every charge in an earlier call loses the new ones too (stays `revoked`).
    tset.reversed_users |= set(rng.sample(users, max(1, len(users) // REVERSED_USERS_PER)))
    refunded = {k for k in ks if user_of[k] in tset.reversed_users}
    rest = [k for k in ks if k not in refunded]
    rng.shuffle(rest)
    refunded |= set(rest[:max(0, round(unique * STARS_REFUND_RATE) - len(refunded))])
    bodies = {}
    event_of = {}  # key -> (kind, user, charge, payload)
    keys = []
    for k in ks:
        user = user_of[k]
        charge = "stxdrill%07d" % k
        payload = ctx.stars_payload(STARS_PLAN, STARS_TG_BASE + user)
        key = "u%d" % (UPDATE_BASE + k)
        bodies[key] = stars_update(UPDATE_BASE + k, k + 1, user, charge, payload)
        event_of[key] = ("payment", user, charge, payload)
        keys.append(key)
        tset.charges[charge] = (user, k in refunded)
        if k in refunded:
            key = "u%d" % (REFUND_UPDATE_BASE + k)
            bodies[key] = stars_refund_update(REFUND_UPDATE_BASE + k, 50_000_000 + k, user, charge, payload)
            event_of[key] = ("refund", user, charge, payload)
            keys.append(key)
    seq = with_duplicates(keys, total, rng)
    # Turn every second duplicate into "same charge (or refund), new update".
    seen = set()
    for i, key in enumerate(seq):
        if key in seen:
            if rng.random() < 0.5:
                kind, user, charge, payload = event_of[key]
                update_id = DUP_UPDATE_BASE + start + i
                new_key = "u%d" % update_id
                make = stars_update if kind == "payment" else stars_refund_update
                bodies[new_key] = make(update_id, 100_000_000 + start + i, user, charge, payload)
                seq[i] = new_key
                tset.new_updates += 1
        else:
            seen.add(key)
    tset.deliveries = [Delivery(i, key, bodies[key]) for i, key in enumerate(seq)]
    tset.update_ids |= {int(key[1:]) for key in bodies}
    return tset


def telegram_request(ctx):
    def request_for(d):
        return "POST", "/webhooks/telegram", d.body, {
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": ctx.secrets.tg_secret}
    return request_for
