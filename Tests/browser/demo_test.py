"""The `scripts/run --demo` flow in a real browser, end to end.

Starts scripts/sandbox.py (the real process: loopback stand-ins for the Bot API and Stripe) and `telebot serve`
(debug build) pointed at it, on a fresh database cloned from the test template. Opens the demo URL that
`sandbox.py demo-url` prints (initData in the `#tgWebAppData` fragment, no Telegram object on the page) in headless
Chromium, then upgrades by card (the sandbox's Checkout page sends telebot signed Stripe webhooks and comes back to
the success URL) and with Stars (the sandbox's invoice page sends pre_checkout_query and successful_payment updates
with the secret token), and checks the page, the database, the sandbox's call log and /metrics after each step.
Screenshots in test-output/: demo-before.png, demo-checkout.png (the sandbox's Checkout page), demo-after.png (after
the card upgrade), demo-stars-invoice.png (the sandbox's Stars invoice page), demo-after-stars.png.
Prints PASS/FAIL lines and a closing 'N passed, N failed' line.
"""
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ENV, OUTPUT, ROOT, TEMPLATE, check, chromium, crashed, drop_database, free_port, get,  # noqa: E402
                     psql, results, start_serve, stop, wait_ready)

SANDBOX = os.path.join(ROOT, "scripts", "sandbox.py")
DEMO_TELEGRAM_ID = 424242













def wait_ports(path, process, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scripts/sandbox.py exited with {process.returncode}")
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return dict(line.strip().split("=", 1) for line in f if "=" in line)
        time.sleep(0.1)
    raise RuntimeError("scripts/sandbox.py did not write its ports file")


def metrics(base):
    """Prometheus text as {'name{labels}': value}."""
    series = {}
    for line in get(base + "/metrics")[1].splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)", line)
        if match and not line.startswith("#"):
            series[match.group(1)] = float(match.group(2))
    return series


def delta(before, after, key):
    return after.get(key, 0.0) - before.get(key, 0.0)


def sandbox_calls(base):
    return json.loads(get(base + "/sandbox/calls")[1])["calls"]


def wait_page_ready(driver, url_prefix, seconds=30):
    """Waits for a fresh load of the Mini App at url_prefix that finished signing in and rendering."""
    WebDriverWait(driver, seconds).until(lambda d: d.current_url.startswith(url_prefix))
    WebDriverWait(driver, seconds).until(
        lambda d: d.execute_script("return document.body && document.body.dataset.ready || ''") in ("true", "error"))
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready")


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def main():
    os.makedirs(OUTPUT, exist_ok=True)
    database = "demo_" + secrets.token_hex(6)
    psql("postgres", f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    workdir = tempfile.mkdtemp(prefix="telebot-demo-test.")
    ports_file = os.path.join(workdir, "ports")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secrets_env = {
        "TELEGRAM_BOT_TOKEN": "123456789:DEMO-test-token-" + secrets.token_hex(10),
        "TELEGRAM_WEBHOOK_SECRET": secrets.token_hex(16),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_KEY": "sk_test_demo",
    }
    sandbox_env = dict(ENV, **secrets_env)
    sandbox_log_path = os.path.join(OUTPUT, "demo-sandbox.log")
    sandbox = subprocess.Popen(
        [sys.executable, SANDBOX, "serve", "--telebot-url", base, "--ports-file", ports_file],
        env=sandbox_env, stdout=open(sandbox_log_path, "w"), stderr=subprocess.STDOUT)
    server = None
    driver = None
    log_path = os.path.join(OUTPUT, "demo-server.log")
    try:
        ports = wait_ports(ports_file, sandbox)
        bot_base, stripe_base = ports["TELEGRAM_API_BASE_URL"], ports["STRIPE_API_BASE_URL"]
        server = start_serve(database, port, log_path, dict(secrets_env, **{
            "PUBLIC_BASE_URL": base, "TELEGRAM_API_BASE_URL": bot_base, "STRIPE_API_BASE_URL": stripe_base,
            "JWT_SECRET": "demo-test-jwt-secret-0123456789abcdef0123",
            "PLANS_FILE": os.path.join(ROOT, "plans.example.json"), "LOG_FORMAT": "json", "LOG_LEVEL": "warning",
        }))
        wait_ready(base, server)
        before = metrics(base)

        demo_url = subprocess.run(
            [sys.executable, SANDBOX, "demo-url", "--miniapp-url", base + "/miniapp/"], env=sandbox_env,
            check=True, capture_output=True, text=True).stdout.strip()
        check("sandbox.py demo-url prints the Mini App URL with initData in the fragment",
              demo_url.startswith(base + "/miniapp/#tgWebAppData=query_id%3D") and "hash%3D" in demo_url,
              demo_url[:80])
        status, _ = get(bot_base + "/sandbox/health")
        check("the sandbox answers on its Bot API port", status == 200, str(status))

        driver = chromium("430,1100")
        # No Telegram here: the page must work from the URL alone (telegram-web-app.js is not loaded).
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*telegram.org*"]})

        # --- before: a newcomer on the free plan --------------------------------------------------------------------
        driver.get(demo_url)
        ready = wait_page_ready(driver, base + "/miniapp/")
        check("demo URL signs in with the initData from the fragment", ready == "true", text(driver, "error"))
        check("greets the demo user", text(driver, "greeting") == "Hi, Demo!", text(driver, "greeting"))
        check("a newcomer is on the free plan", text(driver, "plan-name") == "Free", text(driver, "plan-name"))
        check("no invoices yet", driver.find_element(By.ID, "no-invoices").is_displayed())
        check("the initData fragment is taken out of the address bar", "#" not in driver.current_url,
              driver.current_url[:80])
        driver.save_screenshot(os.path.join(OUTPUT, "demo-before.png"))

        # --- card: sandbox Stripe Checkout, signed webhooks, back to the success URL ---------------------------------
        driver.find_element(By.CSS_SELECTOR, 'li[data-plan="premium_monthly"] .buy-stripe').click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(stripe_base + "/checkout/cs_"))
        check("Pay by card opens the sandbox's Checkout page in the same window",
              "4.99 USD" in driver.find_element(By.TAG_NAME, "body").text, driver.current_url)
        driver.save_screenshot(os.path.join(OUTPUT, "demo-checkout.png"))
        driver.find_element(By.ID, "pay").click()
        ready = wait_page_ready(driver, base + "/miniapp/")
        check("Checkout returns to the Mini App, still signed in (initData from sessionStorage)", ready == "true",
              text(driver, "error"))
        check("the plan is now Premium, monthly", text(driver, "plan-name") == "Premium, monthly",
              text(driver, "plan-name"))
        badge = driver.find_element(By.ID, "plan-status")
        check("the plan badge reads active", "active" in (badge.get_attribute("class") or ""),
              badge.get_attribute("class"))
        check("a thank-you notice is shown", "payment went through" in text(driver, "notice"), text(driver, "notice"))
        check("the success query is taken out of the address bar", driver.current_url == base + "/miniapp/",
              driver.current_url)
        invoices = driver.find_elements(By.CSS_SELECTOR, "#invoices li")
        check("the invoice history lists the card payment",
              len(invoices) == 1 and "Card" in invoices[0].text and "paid" in invoices[0].text.lower(),
              str([li.text for li in invoices]))
        check("Manage subscription is offered", driver.find_element(By.ID, "manage").is_displayed())
        driver.save_screenshot(os.path.join(OUTPUT, "demo-after.png"))

        user_id = psql(database, f"SELECT id FROM users WHERE telegram_user_id = {DEMO_TELEGRAM_ID}")
        check("the demo user exists once", user_id.isdigit(), user_id)
        rows = psql(database, f"SELECT plan, status, source FROM user_entitlements WHERE user_id = {user_id}")
        check("DB: premium_monthly entitlement, active, from Stripe", rows == "premium_monthly|active|stripe", rows)
        rows = psql(database, f"SELECT provider, plan, amount, currency, status FROM invoices WHERE user_id = {user_id}")
        check("DB: one paid Stripe invoice of 499 USD", rows == "stripe|premium_monthly|499|USD|paid", rows)
        rows = psql(database, "SELECT event_type || ':' || status FROM payment_events WHERE provider = 'stripe' "
                              "ORDER BY id")
        check("DB: the three signed Stripe events were accepted and processed",
              rows.split("\n") == ["checkout.session.completed:processed", "customer.subscription.created:processed",
                                   "invoice.paid:processed"], rows)
        rows = psql(database, f"SELECT status FROM stripe_subscriptions WHERE user_id = {user_id}")
        check("DB: the Stripe subscription is active", rows == "active", rows)
        calls = sandbox_calls(stripe_base)
        sessions = [c for c in calls if c["name"] == "POST /v1/checkout/sessions"]
        check("Stripe: one Checkout Session, sent with an Idempotency-Key",
              len(sessions) == 1 and sessions[0]["status"] == 200 and sessions[0]["detail"]["idempotency_key"],
              str(sessions))
        check("Stripe: the customer was created once", len([c for c in calls if c["name"] == "POST /v1/customers"]) == 1)
        deliveries = [c for c in calls if c["service"] == "webhook" and c["detail"].get("provider") == "stripe"]
        check("Stripe webhooks were all answered 200",
              len(deliveries) == 3 and all(c["status"] == 200 for c in deliveries), str(deliveries))

        # --- Stars: sandbox invoice page, pre_checkout_query answered, successful_payment ---------------------------
        driver.find_element(By.CSS_SELECTOR, 'li[data-plan="boost_week"] .buy-stars').click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(bot_base + "/invoice/"))
        check("Pay with Stars opens the sandbox's invoice page",
              "50 Stars" in driver.find_element(By.TAG_NAME, "body").text, driver.current_url)
        driver.save_screenshot(os.path.join(OUTPUT, "demo-stars-invoice.png"))
        driver.find_element(By.ID, "pay").click()
        ready = wait_page_ready(driver, base + "/miniapp/")
        check("the invoice page returns to the Mini App, signed in", ready == "true", text(driver, "error"))
        invoices = driver.find_elements(By.CSS_SELECTOR, "#invoices li")
        check("the invoice history now lists the Stars payment first",
              len(invoices) == 2 and "50 Stars" in invoices[0].text and "paid" in invoices[0].text.lower(),
              str([li.text for li in invoices]))
        check("the page names the Stars boost as also active", "Boost, one week" in text(driver, "plan-others"),
              text(driver, "plan-others"))
        driver.save_screenshot(os.path.join(OUTPUT, "demo-after-stars.png"))

        rows = psql(database, f"SELECT status, source FROM user_entitlements WHERE user_id = {user_id} "
                              "AND plan = 'boost_week'")
        check("DB: boost_week entitlement, active, from Telegram Stars", rows == "active|telegram_stars", rows)
        rows = psql(database, f"SELECT amount, currency, status FROM invoices WHERE user_id = {user_id} "
                              "AND provider = 'telegram_stars'")
        check("DB: one paid Stars invoice of 50 XTR", rows == "50|XTR|paid", rows)
        rows = psql(database, "SELECT kind FROM telegram_updates ORDER BY update_id")
        check("DB: the pre_checkout_query and successful_payment updates were each handled once",
              rows.split("\n") == ["pre_checkout_query", "successful_payment"], rows)
        calls = sandbox_calls(bot_base)
        links = [c for c in calls if c["name"] == "createInvoiceLink"]
        check("Bot API: createInvoiceLink with XTR and the plan's price",
              len(links) == 1 and links[0]["detail"]["params"].get("currency") == "XTR"
              and links[0]["detail"]["params"]["prices"][0]["amount"] == 50, str(links))
        answers = [c for c in calls if c["name"] == "answerPreCheckoutQuery"]
        check("the pre-checkout query was answered ok", len(answers) == 1 and answers[0]["detail"].get("ok") is True,
              str(answers))
        updates = [c for c in calls if c["service"] == "webhook" and c["detail"].get("provider") == "telegram"]
        check("both Telegram updates carried the secret token (answered 200)",
              len(updates) == 2 and all(c["status"] == 200 for c in updates), str(updates))

        after = metrics(base)
        for key, want in (('billing_checkout_started_total{plan="premium_monthly"}', 1),
                          ('billing_checkout_started_total{plan="boost_week"}', 1),
                          ('telegram_payments_total{result="success"}', 1),
                          ('webhook_events_total{provider="stripe",outcome="processed"}', 3),
                          ('webhook_events_total{provider="telegram",outcome="processed"}', 2)):
            got = delta(before, after, key)
            check(f"/metrics: {key} +{want}", got == want, f"{got:+g}")

        # --- a reload keeps the session; the portal cancels the card subscription -----------------------------------
        driver.refresh()
        ready = wait_page_ready(driver, base + "/miniapp/")
        check("a reload stays signed in", ready == "true" and text(driver, "plan-name") == "Premium, monthly",
              text(driver, "error") or text(driver, "plan-name"))
        driver.find_element(By.ID, "manage").click()
        WebDriverWait(driver, 20).until(lambda d: d.current_url.startswith(stripe_base + "/portal/bps_"))
        driver.find_element(By.CSS_SELECTOR, ".cancel-subscription").click()
        ready = wait_page_ready(driver, base + "/miniapp/")
        check("cancelling in the sandbox portal leaves the Stars boost as the current plan",
              ready == "true" and text(driver, "plan-name") == "Boost, one week", text(driver, "plan-name"))
        rows = psql(database, f"SELECT status FROM user_entitlements WHERE user_id = {user_id} "
                              "AND plan = 'premium_monthly'")
        check("DB: customer.subscription.deleted canceled the premium entitlement", rows == "canceled", rows)
    except Exception as error:  # a crash is a failure, with its reason
        crashed(error, "demo test", driver, "demo-failure.png")
    finally:
        if driver is not None:
            driver.quit()
        for process in (server, sandbox):
            if process is not None:
                stop(process)
        drop_database(database)
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"demo: {passed} passed, {failed} failed")
    if failed:
        print(f"[demo] server log: {log_path}; sandbox log: {sandbox_log_path}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
