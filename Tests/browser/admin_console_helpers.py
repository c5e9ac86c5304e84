"""The admin console test's helpers: a signed Stripe payment, response headers, the Grafana dashboard's metrics."""
import glob
import importlib.machinery
import importlib.util
import json
import os
import time
import urllib.request

from harness import ROOT
from selenium.webdriver.common.by import By
from telebot_py import signing


def checkout_event(event_id, session_id, payment_intent, user_id, plan, amount):
    """A Stripe `checkout.session.completed` event of a paid one-time payment."""
    t = int(time.time())
    return {
        "id": event_id, "object": "event", "api_version": "2024-06-20", "created": t, "livemode": False,
        "pending_webhooks": 1, "type": "checkout.session.completed",
        "data": {"object": {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": "paid", "payment_intent": payment_intent, "amount_total": amount, "currency": "usd",
            "client_reference_id": str(user_id), "customer": None, "created": t, "livemode": False,
            "metadata": {"user_id": str(user_id), "plan": plan},
        }},
    }


def deliver_stripe(base, event, webhook_secret):
    body = json.dumps(event, separators=(",", ":")).encode()
    request = urllib.request.Request(base + "/webhooks/stripe", data=body, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": signing.stripe_signature(webhook_secret, body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def page_headers(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers)


def load_check_dashboard():
    """scripts/check-dashboard as a module (its file name has no .py)."""
    loader = importlib.machinery.SourceFileLoader("check_dashboard", os.path.join(ROOT, "scripts", "check-dashboard"))
    spec = importlib.util.spec_from_loader("check_dashboard", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


CHECK_DASHBOARD = load_check_dashboard()


def dashboard_queries():
    queries = []
    for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "grafana", "dashboards", "*.json"))):
        with open(path) as f:
            for panel in CHECK_DASHBOARD.panels_of(json.load(f)):
                queries += [t["expr"].replace("$__rate_interval", "5m") for t in panel.get("targets", []) if t.get("expr")]
    return queries


def metric_families(base):
    """Names on `# TYPE` lines of GET /metrics."""
    with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
        text = response.read().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def family_of(series):
    for suffix in ("_bucket", "_sum", "_count"):
        if series.endswith(suffix):
            return series[: -len(suffix)]
    return series


def rows(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)
