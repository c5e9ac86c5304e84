"""The sandbox's shared pieces: demo user and initData, its own state, webhook POSTs, HTML page frame, ids."""
import collections
import html
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .. import signing

# The demo runs for days: its fakes remember only their last requests (the call log at /sandbox/calls keeps 500).
HISTORY = 1000

DEMO_TELEGRAM_ID = 424242
DEMO_FIRST_NAME = "Demo"
DEMO_USERNAME = "demo_user"

# Prices of the example catalog (plans.example.json has only the price ids): amount in cents, currency, days.
DEFAULT_PRICES = {
    "price_premium_monthly": (499, "usd", 30),
    "price_premium_yearly": (4999, "usd", 365),
}
STRIPE_API_VERSION = "2024-06-20"
STARS_SUBSCRIPTION_PERIOD = 2592000


def log(message):
    print("[sandbox] " + message, file=sys.stderr, flush=True)


def now():
    return int(time.time())


def new_id(prefix, length=14):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))

# --- Telegram initData --------------------------------------------------------------------------------------------

def demo_user(telegram_id):
    return {"id": telegram_id, "is_bot": False, "first_name": DEMO_FIRST_NAME, "last_name": "User",
            "username": DEMO_USERNAME, "language_code": "en"}


def signed_init_data(bot_token, telegram_id, auth_date=None):
    """initData as Telegram signs it (telebot_py.signing), for the demo user."""
    user = demo_user(telegram_id)
    user.pop("is_bot")
    user["allows_write_to_pm"] = True
    return signing.user_init_data(bot_token, user, auth_date=now() if auth_date is None else auth_date,
                                  query_id="AAH" + secrets.token_urlsafe(18))


def demo_url(miniapp_url, init_data):
    """The Mini App URL carrying initData the way Telegram passes it to web apps: in the fragment."""
    base = miniapp_url.split("#", 1)[0]
    return base + "#tgWebAppData=" + urllib.parse.quote(init_data, safe="")

def stripe_signature(secret, body, timestamp):
    """`Stripe-Signature` for `body` (telebot_py.signing)."""
    return signing.stripe_signature(secret, body, timestamp)


# --- shared state ---------------------------------------------------------------------------------------------------

class State:
    """What only the sandbox knows: its call log, the Stars invoices its links point at and their pre-checkout
    answers, what each Checkout Session's page needs (price, quantity, days, subscription metadata) and the ids of
    the updates it sends. Stripe's objects live in the StatefulStripe it serves, the Bot API's state in its
    ScriptedBotAPI."""

    def __init__(self, config):
        self.config = config
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.calls = collections.deque(maxlen=500)
        self.checkouts = {}  # cs_test_... -> {"price", "quantity", "days", "subscription_metadata"}
        self.tg_invoices = {}
        self.answers = {}
        self.update_id = int(time.time() * 1000)  # unique across sandbox restarts on one database
        self.message_id = 1000

    def record(self, service, name, status, **detail):
        entry = {"service": service, "name": name, "status": status, "at": time.time(), "detail": detail}
        with self.lock:
            self.calls.append(entry)
        return entry

    def next_update_id(self):
        with self.lock:
            self.update_id += 1
            return self.update_id

    def next_message_id(self):
        with self.lock:
            self.message_id += 1
            return self.message_id

    def remember_answer(self, query_id, answer):
        """A pre-checkout query's answer (an answerPreCheckoutQuery call or webhook reply), for the waiting Pay."""
        with self.changed:
            self.answers[query_id] = {"ok": bool(answer.get("ok")), "error_message": answer.get("error_message")}
            self.changed.notify_all()


def post_json(url, body, headers, attempts=3):
    """POSTs JSON bytes; retries connection errors and 5xx (as Stripe and Telegram redeliver).
    Returns (status, response text); status 0 when telebot could not be reached."""
    status, text = 0, ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers=dict({"Content-Type": "application/json; charset=utf-8"}, **headers))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", "replace")
            if status < 500:
                return status, text
        except OSError as error:
            status, text = 0, str(error)
        if attempt < attempts:
            time.sleep(0.5 * attempt)
    return status, text


# --- HTML -----------------------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font: 15px/1.45 -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 0 12px; background: {bg};
        color: #1c1c1e; }}
main {{ max-width: 460px; margin: 24px auto; padding: 20px; background: #fff; border-radius: 14px;
        box-shadow: 0 2px 14px rgba(0,0,0,.08); }}
.sandbox {{ font-size: 12px; color: #8a5a00; background: #fff1cc; border-radius: 8px; padding: 6px 10px; }}
h1 {{ font-size: 20px; margin: 14px 0 4px; }} .muted {{ color: #6b6b70; font-size: 13px; }}
.amount {{ font-size: 28px; font-weight: 700; margin: 12px 0; }}
button, .button {{ font: inherit; border: 0; border-radius: 10px; padding: 12px 16px; cursor: pointer; width: 100%;
          background: {accent}; color: #fff; display: block; text-align: center; text-decoration: none;
          margin-top: 10px; }}
.secondary {{ background: transparent; color: {accent}; }}
table {{ width: 100%; border-collapse: collapse; margin: 10px 0; }} td {{ padding: 4px 0; }}
td:last-child {{ text-align: right; }} .error {{ color: #d93025; }}
</style></head>
<body><main><div class="sandbox">{banner}</div>
{body}
</main></body></html>"""


def page(title, body, accent="#635bff", bg="#f6f9fc", banner="telebot sandbox: no real money moves"):
    return PAGE.format(title=html.escape(title), body=body, accent=accent, bg=bg, banner=html.escape(banner))


def money(amount, currency):
    if currency.upper() == "XTR":
        return f"{amount} Stars"
    return f"{amount / 100:.2f} {currency.upper()}"
