"""Signatures telebot checks, computed the way the providers compute them (one place for every script and test).

    init_data(bot_token, fields)       Telegram Mini App initData: secret = HMAC_SHA256(key="WebAppData",
                                       msg=bot_token); hash = hex HMAC_SHA256(secret, the sorted key=value lines)
    stripe_signature(secret, body, t)  the Stripe-Signature header: t=<t>,v1=<hex HMAC_SHA256(secret, "t.body")>
    stars_payload_key / stars_payload  telebot's signed Stars invoice payload (StarsInvoicePayloadSigner)
"""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse


def init_data_hash(bot_token, fields):
    """The hex `hash` of initData `fields` (every field but hash)."""
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def init_data(bot_token, fields):
    """initData (a query string, percent-encoded with quote) for `fields` plus their `hash`."""
    pairs = dict(fields)
    pairs["hash"] = init_data_hash(bot_token, fields)
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


def user_init_data(bot_token, user, auth_date=None, query_id="AAHtelebotQueryId", **extra):
    """initData for a Telegram `user` dict (JSON without spaces, as Telegram sends it)."""
    fields = {"query_id": query_id, "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
              "auth_date": str(int(time.time()) if auth_date is None else auth_date)}
    fields.update(extra)
    return init_data(bot_token, fields)


def stripe_signature(secret, body, t=None):
    """`Stripe-Signature` for `body` (bytes): HMAC-SHA256 over "t.body" keyed with the whole whsec_ string."""
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return sign + out


def stars_payload_key(bot_token):
    """HKDF-SHA256(ikm = bot token, salt = "telebot", info = "stars-invoice-payload/v1", 32 bytes), as telebot's
    StarsInvoicePayloadSigner derives it."""
    prk = hmac.new(b"telebot", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(prk, b"stars-invoice-payload/v1" + b"\x01", hashlib.sha256).digest()


def stars_payload(key, plan, telegram_user_id, issued_at=None, nonce=None):
    """A Stars invoice payload telebot accepts: 1:<plan>:<user base36>:<time base36>:<nonce>:<tag>."""
    issued_at = int(time.time()) if issued_at is None else issued_at
    nonce = b64url(os.urandom(4)) if nonce is None else nonce
    message = ":".join(["1", plan, base36(telegram_user_id), base36(issued_at), nonce])
    tag = b64url(hmac.new(key, message.encode(), hashlib.sha256).digest()[:12])
    return message + ":" + tag
