"""The scripted Bot API's answers to well-formed calls, and the 400s Telegram gives malformed ones: ported from the
Swift tests' former own fake, kept to the same descriptions so a test asserts the same strings whichever
fake answered. Runs under the fake's lock (message ids, refunded charges and star transactions are its state).
"""
import secrets
import time

from .server import INT64, compact_json, swift_int

MISSING = object()  # a key that is absent, as opposed to present with JSON null
SUBSCRIPTION_PERIODS = (2592000, 60, 300)  # 30 days; Telegram's test environment also accepts 60 and 300 seconds
SLUG_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def ok(result):
    return 200, compact_json({"ok": True, "result": result})


def error(code, description, parameters=None):
    envelope = {"ok": False, "error_code": code, "description": description}
    if parameters is not None:
        envelope["parameters"] = parameters
    return code, compact_json(envelope)


def field(value, key):
    """value[key] when value is an object holding key, else MISSING (Swift's JSON subscript giving nil)."""
    return value.get(key, MISSING) if isinstance(value, dict) else MISSING


def as_int(value):
    """The integer, also from a whole floating-point number (never from a boolean), like JSONValue.int."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in INT64 else None
    if isinstance(value, float) and value.is_integer() and -(2.0 ** 63) <= value < 2.0 ** 63:
        return int(value)
    return None


def as_str(value):
    return value if isinstance(value, str) else None


def as_bool(value):
    return value if isinstance(value, bool) else None


def bot_id(token):
    """The bot's id: the token's part before ':' (Swift's split drops empty parts; Int64 parsing), else 1."""
    first = next((part for part in token.split(":") if part), "")
    parsed = swift_int(first)
    return 1 if parsed is None else parsed


def bot_user(token):
    return {"id": bot_id(token), "is_bot": True, "first_name": "Fake Bot", "username": "fake_bot"}


CHAT_NOT_FOUND = "Bad Request: chat not found"


def result(fake, method, body, state):
    """(status, body bytes) for a call that got no fault. A result scripted with set_result replaces the computed
    one, after the checks (so a malformed call still gets its 400)."""
    if method == "getMe":
        answer = ok(bot_user(fake.token))
    elif method == "sendMessage":
        chat = field(body, "chat_id")
        if chat is MISSING or chat is None:
            return error(400, CHAT_NOT_FOUND)
        text = as_str(field(body, "text"))
        if not text:
            return error(400, "Bad Request: message text is empty")
        message = new_message(fake, chat, state)
        message["text"] = text
        markup = field(body, "reply_markup")
        if markup is not MISSING:
            message["reply_markup"] = markup
        answer = ok(message)
    elif method == "sendInvoice":
        chat = field(body, "chat_id")
        if chat is MISSING or chat is None:
            return error(400, CHAT_NOT_FOUND)
        problem = invoice_problem(body)
        if problem:
            return error(400, "Bad Request: " + problem)
        if field(body, "subscription_period") is not MISSING:
            return error(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
        message = new_message(fake, chat, state)
        message["invoice"] = {key: present_or(body, key, "") for key in
                              ("title", "description", "start_parameter", "currency")}
        message["invoice"]["total_amount"] = sum(as_int(field(p, "amount")) or 0 for p in field(body, "prices"))
        answer = ok(message)
    elif method == "createInvoiceLink":
        problem = invoice_problem(body)
        if problem:
            return error(400, "Bad Request: " + problem)
        period = field(body, "subscription_period")
        if period is not MISSING and (
                (as_int(period) or 0) not in SUBSCRIPTION_PERIODS or as_str(field(body, "currency")) != "XTR"):
            return error(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
        if fake.invoice_link is not None:
            answer = ok(fake.invoice_link(body))
        else:
            answer = ok("https://t.me/$" + "".join(secrets.choice(SLUG_ALPHABET) for _ in range(22)))
    elif method == "answerPreCheckoutQuery":
        agreed = as_bool(field(body, "ok"))
        if not as_str(field(body, "pre_checkout_query_id")) or agreed is None:
            return error(400, "Bad Request: QUERY_ID_INVALID")
        if not agreed and not as_str(field(body, "error_message")):
            return error(400, "Bad Request: PRECHECKOUT_ERROR_MESSAGE_EMPTY")
        answer = ok(True)
    elif method == "answerCallbackQuery":
        if not as_str(field(body, "callback_query_id")):
            return error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        answer = ok(True)
    elif method == "refundStarPayment":
        charge = as_str(field(body, "telegram_payment_charge_id"))
        if as_int(field(body, "user_id")) is None or not charge:
            return error(400, "Bad Request: CHARGE_ID_INVALID")
        if charge in state.refunded_charges:
            return error(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        state.refunded_charges.add(charge)
        answer = ok(True)
    elif method == "editUserStarSubscription":
        if as_int(field(body, "user_id")) is None or not as_str(field(body, "telegram_payment_charge_id")) \
                or as_bool(field(body, "is_canceled")) is None:
            return error(400, "Bad Request: CHARGE_ID_INVALID")
        answer = ok(True)
    elif method == "getStarTransactions":
        offset = max(0, as_int(present_or(body, "offset", None)) or 0)
        limit = as_int(field(body, "limit"))
        limit = 100 if limit is None else limit
        if not 1 <= limit <= 100:
            return error(400, "Bad Request: LIMIT_INVALID")
        answer = ok({"transactions": state.star_transactions[offset:offset + limit]})
    elif method == "getWebhookInfo":
        # The last successful setWebhook's URL and update types, as Telegram reports them (never the secret).
        last = next((c["body"] for c in reversed(state.calls)
                     if c["method"] == "setWebhook" and c["status"] == 200), MISSING)
        info = {"url": present_or(last, "url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        allowed = field(last, "allowed_updates")
        if allowed is not MISSING:
            info["allowed_updates"] = allowed
        answer = ok(info)
    elif method in ("setWebhook", "deleteWebhook", "setMyCommands", "sendChatAction"):
        answer = ok(True)
    else:
        return error(404, "Not Found")
    if method in state.results:
        return ok(state.results[method])
    return answer


def present_or(body, key, default):
    value = field(body, key)
    return default if value is MISSING else value


def new_message(fake, chat, state):
    """A new message from the bot in `chat`, with the next message id (a @username chat is a channel)."""
    message_id = state.next_message_id
    state.next_message_id += 1
    chat_id = as_int(chat)
    if chat_id is not None:
        chat_object = {"id": chat_id, "type": "channel" if chat_id < 0 else "private"}
    else:
        chat_object = {"id": -1001000000000, "type": "channel", "username": (as_str(chat) or "").replace("@", "")}
    return {"message_id": message_id, "from": bot_user(fake.token), "chat": chat_object, "date": int(time.time())}


def invoice_problem(body):
    """What Telegram would refuse in an invoice, or None."""
    title = as_str(field(body, "title"))
    if title is None or not 1 <= len(title) <= 32:
        return "INVOICE_TITLE_INVALID"
    description = as_str(field(body, "description"))
    if description is None or not 1 <= len(description) <= 255:
        return "INVOICE_DESCRIPTION_INVALID"
    payload = as_str(field(body, "payload"))
    if payload is None or not 1 <= len(payload.encode()) <= 128:
        return "INVOICE_PAYLOAD_INVALID"
    currency = as_str(field(body, "currency"))
    if not currency:
        return "CURRENCY_INVALID"
    prices = field(body, "prices")
    if not isinstance(prices, list) or not prices or not all(
            as_str(field(p, "label")) is not None and (as_int(field(p, "amount")) or 0) > 0 for p in prices):
        return "PRICES_INVALID"
    if currency == "XTR":
        if len(prices) != 1:
            return "STARS_INVOICE_INVALID"
        if as_str(field(body, "provider_token")):
            return "PROVIDER_TOKEN_INVALID"
    return None
