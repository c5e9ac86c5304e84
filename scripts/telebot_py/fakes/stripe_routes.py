"""The stateful Stripe's endpoints (ported from the Swift tests' former own fake, which this replaced),
with the Swift fake's status codes, error codes and messages. Every function runs under the fake's lock and returns
(status, body bytes, headers). The hooks (stripe_api.py) name, shape and hear of the objects created here.
"""
import json
import time

from .stripe_events import error_answer, list_events, sjson

INVALID = "invalid_request_error"
KINDS = ("cus", "cs_test", "bps")  # the kinds of objects the fake creates (ids `cus_fake000001`, ...)


def last_component(path):
    parts = [part for part in path.split("/") if part]
    return parts[-1] if parts else ""


def route(state, method, path, form):
    fields = dict(form)  # the last of a repeated name wins
    if method == "POST" and path == "/v1/customers":
        return create_customer(state, fields)
    if method == "POST" and path == "/v1/checkout/sessions":
        return create_checkout_session(state, fields)
    if method == "POST" and path == "/v1/billing_portal/sessions":
        return create_portal_session(state, fields)
    if method == "POST" and path == "/v1/refunds":
        return create_refund(state, fields)
    if method == "POST" and path.startswith("/v1/subscriptions/"):
        return update_subscription(state, path, fields)
    if method == "GET" and path == "/v1/events":
        return list_events(state.events, form)
    if method == "GET":
        if path in state.objects:
            return 200, state.objects[path], {}
        return error_answer(404, INVALID, "No such object: '%s'" % last_component(path), code="resource_missing",
                            param="id")
    return error_answer(404, INVALID, "Unrecognized request URL (%s: %s)." % (method, path))


def new_id(state, kind):
    """`cus_fake000001`, ..., counting every object; the make_id hook, when set, names them instead."""
    state.counter += 1
    if state.hooks.make_id is not None:
        return state.hooks.make_id(kind)
    return "%s_fake%06d" % (kind, state.counter)


def save(state, kind, object_id, collection, obj, fields):
    """Stores a created object (after the shape hook added to it) and tells the changed hook."""
    if state.hooks.shape is not None:
        state.hooks.shape(kind, obj, fields)
    data = sjson(obj)
    state.objects["/v1/%s/%s" % (collection, object_id)] = data
    state.created.append((kind, object_id))
    return stored(state, kind, obj, data)


def stored(state, kind, obj, data):
    if state.hooks.changed is not None:
        state.hooks.changed(kind, obj)
    return 200, data, {}


def nested(fields, name):
    """`name[key]=value` fields as {key: value} (one level only)."""
    prefix = name + "["
    return {field[len(prefix):-1]: value for field, value in fields.items()
            if field.startswith(prefix) and field.endswith("]") and "[" not in field[len(prefix):-1]}


def now():
    return int(time.time())


def create_customer(state, fields):
    object_id = new_id(state, "cus")
    return save(state, "cus", object_id, "customers", {
        "id": object_id, "object": "customer", "created": now(), "livemode": False,
        "email": fields.get("email"), "name": fields.get("name"), "metadata": nested(fields, "metadata")}, fields)


def create_checkout_session(state, fields):
    mode = fields.get("mode")
    if mode not in ("payment", "subscription", "setup"):
        return error_answer(400, INVALID, "Missing required param: mode.", code="parameter_missing", param="mode")
    if mode != "setup" and "line_items[0][price]" not in fields:
        return error_answer(400, INVALID, "You must specify `line_items` in `%s` mode." % mode,
                            code="parameter_missing", param="line_items")
    if "success_url" not in fields:
        return error_answer(400, INVALID, "Missing required param: success_url.", code="parameter_missing",
                            param="success_url")
    customer = fields.get("customer")
    if customer is not None and not customer.startswith("cus_"):
        return error_answer(400, INVALID, "No such customer: '%s'" % customer, code="resource_missing",
                            param="customer")
    object_id = new_id(state, "cs_test")
    return save(state, "cs_test", object_id, "checkout/sessions", {
        "id": object_id, "object": "checkout.session", "created": now(), "livemode": False, "mode": mode,
        "url": "https://checkout.stripe.com/c/pay/" + object_id, "status": "open", "payment_status": "unpaid",
        "customer": customer, "client_reference_id": fields.get("client_reference_id"),
        "metadata": nested(fields, "metadata"), "success_url": fields["success_url"],
        "cancel_url": fields.get("cancel_url"), "subscription": None}, fields)


def create_portal_session(state, fields):
    if "customer" not in fields:
        return error_answer(400, INVALID, "Missing required param: customer.", code="parameter_missing",
                            param="customer")
    object_id = new_id(state, "bps")
    return save(state, "bps", object_id, "billing_portal/sessions", {
        "id": object_id, "object": "billing_portal.session", "created": now(), "livemode": False,
        "customer": fields["customer"], "return_url": fields.get("return_url"),
        "url": "https://billing.stripe.com/p/session/" + object_id}, fields)


def stored_object(state, path):
    try:
        obj = json.loads(state.objects[path])
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def update_subscription(state, path, fields):
    """POST /v1/subscriptions/{id}: only cancel_at_period_end, on a subscription stubbed with stub()."""
    obj = stored_object(state, path)
    if obj is None:
        return error_answer(404, INVALID, "No such subscription: '%s'" % last_component(path),
                            code="resource_missing", param="id")
    flag = fields.get("cancel_at_period_end")
    if flag is not None:
        if flag not in ("true", "false"):
            return error_answer(400, INVALID, "Invalid boolean: " + flag, code="parameter_invalid_boolean",
                                param="cancel_at_period_end")
        obj["cancel_at_period_end"] = flag == "true"
    data = sjson(obj)
    state.objects[path] = data
    return stored(state, "sub", obj, data)


def create_refund(state, fields):
    """POST /v1/refunds: a full refund of payment_intent or charge (the amount of a stubbed
    /v1/payment_intents/{id}, else 999 usd); a second refund of one payment is 400 charge_already_refunded."""
    payment = fields.get("payment_intent", fields.get("charge"))
    if payment is None:
        return error_answer(
            400, INVALID, "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing", param="payment_intent")
    marker = "/fake/refunded/" + payment
    if marker in state.objects:
        return error_answer(400, INVALID, "Charge for %s has already been refunded." % payment,
                            code="charge_already_refunded")
    reason = fields.get("reason")
    if reason is not None and reason not in ("duplicate", "fraudulent", "requested_by_customer"):
        return error_answer(400, INVALID, "Invalid reason: " + reason, code="parameter_invalid_empty", param="reason")
    refund_id = new_id(state, "re")
    amount, currency = 999, "usd"
    intent = stored_object(state, "/v1/payment_intents/" + payment)
    if intent is not None:
        if isinstance(intent.get("amount"), int) and not isinstance(intent.get("amount"), bool):
            amount = intent["amount"]
        if isinstance(intent.get("currency"), str):
            currency = intent["currency"]
    refund = {
        "id": refund_id, "object": "refund", "amount": amount, "currency": currency, "status": "succeeded",
        "payment_intent": fields.get("payment_intent"), "charge": fields.get("charge", "ch_for_" + payment),
        "reason": reason, "created": now()}
    data = sjson(refund)
    state.objects["/v1/refunds/" + refund_id] = data
    state.objects[marker] = data
    return stored(state, "re", refund, data)
