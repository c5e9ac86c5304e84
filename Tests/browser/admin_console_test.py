"""The operators' console (/admin/) in a real browser.

Starts `telebot serve` (debug build) with ADMIN_TOKEN on a fresh database cloned from the test template, with the
loopback fakes for Stripe and the Bot API. A customer pays (a signed Stripe `checkout.session.completed`, one-time
payment, delivered to /webhooks/stripe like Stripe would), then, in headless Chromium, an operator unlocks the
console with the token, looks the customer up, sees the grant and the payment, refunds it through the confirmation
dialog (which names the amount) and sees the access end. Also: the strict CSP, the token kept out of storage, a
dead event retried, reconciliation runs listed, marketing paused and resumed. Prints a closing 'N passed, N failed'
line; screenshots go to test-output/admin-console-*.png.
"""
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakes  # noqa: E402
from admin_console_helpers import (CHECK_DASHBOARD, checkout_event, dashboard_queries, deliver_stripe,  # noqa: E402
                                   family_of, metric_families, page_headers, rows)
from harness import (OUTPUT, ROOT, TEMPLATE, check, chromium, crashed, free_port, psql, start_serve, summary,  # noqa: E402
                     tear_down, wait_ready)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BOT_TOKEN = "123456789:ADMIN-console-test-token-abcdefghij"
WEBHOOK_SECRET = "whsec_admin_console_browser"
ADMIN_TOKEN = "admin-console-" + secrets.token_hex(16)
TELEGRAM_ID = 5550077
AMOUNT = 1999
PAYMENT_INTENT = "pi_admin_console_1"












def main():
    os.makedirs(OUTPUT, exist_ok=True)
    database = "admin_console_" + secrets.token_hex(6)
    psql("postgres", f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    bot_server, _bot_calls = fakes.start_bot_api()
    stripe_server, stripe_calls = fakes.start_stripe()
    stripe_calls.refund_amount = AMOUNT
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(OUTPUT, "admin-console-server.log")
    server = start_serve(database, port, log_path, {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": "admin-console-webhook-secret-0123456789",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{bot_server.server_address[1]}",
        "STRIPE_API_KEY": "sk_test_admin_console", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE_URL": f"http://127.0.0.1:{stripe_server.server_address[1]}",
        "JWT_SECRET": "admin-console-test-jwt-secret-0123456789abcdef",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PLANS_FILE": os.path.join(ROOT, "plans.example.json"),
        "RECONCILE_INTERVAL_SECONDS": "0",
        "LOG_FORMAT": "json", "LOG_LEVEL": "info",
    })
    driver = None
    try:
        wait_ready(base, server)

        # --- the page itself: static, strict CSP, no secret -----------------------------------------------------
        status, headers = page_headers(base + "/admin/")
        csp = headers.get("Content-Security-Policy", "")
        check("GET /admin/ serves the console", status == 200 and "text/html" in headers.get("Content-Type", ""),
              str((status, headers.get("Content-Type"))))
        check("the console's CSP allows scripts and styles from the server only, no inline code",
              "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
              and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp)
        check("the console is never cached", headers.get("Cache-Control") == "no-store", str(headers.get("Cache-Control")))
        with urllib.request.urlopen(base + "/admin/", timeout=5) as response:
            html = response.read().decode()
        check("the page has no inline script or style", "<script>" not in html and "<style" not in html
              and " on" + "click=" not in html and "style=" not in html)
        try:
            urllib.request.urlopen(base + "/admin/v1/reconcile/runs", timeout=5)
            runs_status = 200
        except urllib.error.HTTPError as error:
            runs_status = error.code
        check("the runs API needs the admin token", runs_status == 401, str(runs_status))

        # --- a customer pays (a real signed Stripe webhook) -----------------------------------------------------
        user_id = psql(database, f"INSERT INTO users (telegram_user_id, username, first_name) "
                                 f"VALUES ({TELEGRAM_ID}, 'zoe_admin', 'Zoe') RETURNING id").splitlines()[0]
        status = deliver_stripe(base, checkout_event("evt_admin_console_paid", "cs_admin_console_1", PAYMENT_INTENT,
                                                     user_id, "premium_monthly", AMOUNT), WEBHOOK_SECRET)
        check("the payment webhook is accepted", status == 200, str(status))
        check("the payment granted access",
              psql(database, f"SELECT status FROM user_entitlements WHERE user_id = {user_id} "
                             f"AND plan = 'premium_monthly'") == "active")

        # A dead event (its payload a valid one-time payment of another plan) for the retry button, and two
        # reconciliation runs for the runs table.
        dead_event = checkout_event("evt_admin_console_dead", "cs_admin_console_2", "pi_admin_console_2", user_id,
                                    "premium_yearly", 9900)
        dead_id = psql(database, f"""
            INSERT INTO payment_events (provider, event_id, event_type, status, attempts, last_error, payload,
                                        received_at)
            VALUES ('stripe', 'evt_admin_console_dead', 'checkout.session.completed', 'dead', 8,
                    'database was down', '{json.dumps(dead_event).replace("'", "''")}'::jsonb,
                    now() - interval '1 hour')
            RETURNING id""").splitlines()[0]
        psql(database, """
            INSERT INTO reconcile_runs (provider, window_start, window_end, seen, recovered, failed, started_at,
                                        finished_at)
            VALUES ('stripe', now() - interval '72 hours', now() - interval '10 minutes', 41, 2, 0,
                    now() - interval '10 minutes', now() - interval '9 minutes'),
                   ('telegram_stars', now() - interval '72 hours', now() - interval '5 minutes', 7, 0, 0,
                    now() - interval '5 minutes', now() - interval '5 minutes')""")

        # --- the browser --------------------------------------------------------------------------------------
        driver = chromium("1280,1600", browser_log=True)
        driver.get(base + "/admin/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        check("the console script runs under the CSP",
              driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "locked")

        # A wrong token is refused and the console stays locked.
        driver.find_element(By.ID, "token").send_keys("not-the-token")
        driver.find_element(By.ID, "unlock-button").click()
        WebDriverWait(driver, 10).until(lambda d: "refused" in d.find_element(By.ID, "session").text)
        check("a wrong token is refused", driver.find_element(By.ID, "console").is_displayed() is False)

        driver.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
        driver.find_element(By.ID, "unlock-button").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "unlocked")
        check("the admin token unlocks the console", driver.find_element(By.ID, "console").is_displayed())
        stored = driver.execute_script(
            "return JSON.stringify([Object.assign({}, localStorage), Object.assign({}, sessionStorage),"
            " document.cookie, location.href, document.getElementById('token').value])")
        check("the token is kept in memory only (not in storage, cookies, URL or the field)",
              ADMIN_TOKEN not in stored, stored)

        # Dead events and reconciliation runs load with the token.
        WebDriverWait(driver, 10).until(lambda d: rows(d, "#runs tr"))
        dead_rows = rows(driver, f'#dead-events tr[data-event-id="{dead_id}"]')
        check("the dead event is listed with a Retry button",
              len(dead_rows) == 1 and dead_rows[0].find_elements(By.CSS_SELECTOR, "button.retry"),
              driver.find_element(By.ID, "dead-events").text)
        run_rows = rows(driver, "#runs tr")
        check("reconciliation runs are listed, newest first",
              len(run_rows) == 2 and "telegram_stars" in run_rows[0].text and "stripe" in run_rows[1].text,
              driver.find_element(By.ID, "runs").text)

        # --- look the customer up ------------------------------------------------------------------------------
        driver.find_element(By.ID, "query").send_keys("zoe_admin")
        driver.find_element(By.ID, "search-button").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "customer").is_displayed())
        check("a username search opens the customer",
              driver.find_element(By.ID, "customer").get_attribute("data-telegram-id") == str(TELEGRAM_ID),
              driver.find_element(By.ID, "customer-title").text)
        ent = rows(driver, '#entitlements tr[data-plan="premium_monthly"]')
        check("the access shows premium_monthly active",
              len(ent) == 1 and ent[0].get_attribute("data-status") == "active",
              driver.find_element(By.ID, "entitlements").text)
        grants = rows(driver, "#grants li[data-state]")
        check("the grants timeline shows the payment's grant",
              len(grants) == 1 and grants[0].get_attribute("data-state") == "active"
              and "stripe" in grants[0].text, driver.find_element(By.ID, "grants").text)
        inv = rows(driver, f'#invoices tr[data-invoice="{PAYMENT_INTENT}"]')
        check("the payment is listed as paid, with its amount",
              len(inv) == 1 and inv[0].get_attribute("data-status") == "paid" and "$19.99" in inv[0].text,
              driver.find_element(By.ID, "invoices").text)
        events = driver.find_element(By.ID, "customer-events").text
        check("the customer's payment events include the webhook", "checkout.session.completed" in events, events)
        driver.save_screenshot(os.path.join(OUTPUT, "admin-console-customer.png"))

        # --- refund it, through the confirmation -----------------------------------------------------------------
        inv[0].find_element(By.CSS_SELECTOR, "button.refund").click()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "confirm").get_attribute("open") is not None)
        confirm_text = driver.find_element(By.ID, "confirm-text").text
        ok_label = driver.find_element(By.ID, "confirm-ok").text
        check("the confirmation names the amount and the payment",
              "$19.99" in confirm_text and PAYMENT_INTENT in confirm_text and "$19.99" in ok_label,
              confirm_text + " | " + ok_label)
        driver.save_screenshot(os.path.join(OUTPUT, "admin-console-refund-confirm.png"))
        # Cancel first: nothing is refunded.
        driver.find_element(By.ID, "confirm-cancel").click()
        time.sleep(0.5)
        check("cancelling the confirmation refunds nothing", not stripe_calls.named("/v1/refunds"),
              str(stripe_calls.named("/v1/refunds")))
        inv = rows(driver, f'#invoices tr[data-invoice="{PAYMENT_INTENT}"]')
        inv[0].find_element(By.CSS_SELECTOR, "button.refund").click()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "confirm").get_attribute("open") is not None)
        driver.find_element(By.ID, "confirm-ok").click()
        WebDriverWait(driver, 15).until(
            lambda d: [r for r in rows(d, f'#invoices tr[data-invoice="{PAYMENT_INTENT}"]')
                       if r.get_attribute("data-status") == "refunded"]
            or d.find_element(By.ID, "error").get_attribute("hidden") is None)
        check("no error after the refund", driver.find_element(By.ID, "error").get_attribute("hidden") is not None,
              driver.find_element(By.ID, "error").text)
        inv = rows(driver, f'#invoices tr[data-invoice="{PAYMENT_INTENT}"]')
        check("the payment now reads refunded",
              len(inv) == 1 and inv[0].get_attribute("data-status") == "refunded",
              driver.find_element(By.ID, "invoices").text)
        ent = rows(driver, '#entitlements tr[data-plan="premium_monthly"]')
        ent_status = ent[0].get_attribute("data-status") if ent else None
        check("the access has ended (the console shows it no longer active)",
              ent_status is not None and ent_status != "active", str(ent_status))
        check("the database agrees: the access is not active",
              psql(database, f"SELECT status FROM user_entitlements WHERE user_id = {user_id} "
                             f"AND plan = 'premium_monthly'") != "active")
        grants = rows(driver, "#grants li[data-state]")
        check("the grant reads refunded", grants and grants[0].get_attribute("data-state") == "refunded",
              driver.find_element(By.ID, "grants").text)
        refunds = stripe_calls.named("/v1/refunds")
        check("Stripe was asked for one refund of the payment intent, with an idempotency key",
              len(refunds) == 1 and refunds[0].form().get("payment_intent") == [PAYMENT_INTENT]
              and bool(refunds[0].headers.get("Idempotency-Key")), str(refunds))
        check("the notice names the refunded amount", "$19.99" in driver.find_element(By.ID, "notice").text,
              driver.find_element(By.ID, "notice").text)
        changes = driver.find_element(By.ID, "changes").text
        check("the audit trail shows the admin's refund", "admin" in changes.lower(), changes)
        driver.save_screenshot(os.path.join(OUTPUT, "admin-console-refunded.png"))

        # --- retry the dead event ---------------------------------------------------------------------------------
        rows(driver, f'#dead-events tr[data-event-id="{dead_id}"] button.retry')[0].click()
        WebDriverWait(driver, 15).until(lambda d: "retried" in d.find_element(By.ID, "notice").text
                                        or d.find_element(By.ID, "error").get_attribute("hidden") is None)
        check("retrying the dead event processes it", "processed" in driver.find_element(By.ID, "notice").text,
              driver.find_element(By.ID, "notice").text + " | " + driver.find_element(By.ID, "error").text)
        check("the ledger row is processed",
              psql(database, f"SELECT status FROM payment_events WHERE id = {dead_id}") == "processed")
        WebDriverWait(driver, 10).until(lambda d: not rows(d, f'#dead-events tr[data-event-id="{dead_id}"]'))
        check("the retried event leaves the dead list", not rows(driver, f'#dead-events tr[data-event-id="{dead_id}"]'))
        WebDriverWait(driver, 10).until(lambda d: rows(d, '#entitlements tr[data-plan="premium_yearly"]'))
        check("the customer view shows what the retried payment granted",
              rows(driver, '#entitlements tr[data-plan="premium_yearly"]')[0].get_attribute("data-status") == "active")

        # --- marketing pause / resume ----------------------------------------------------------------------------
        driver.find_element(By.ID, "pause").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "scheduler-status").get_attribute("data-paused") == "true")
        check("pause stops promo posts", "paused" in driver.find_element(By.ID, "scheduler-status").text)
        driver.find_element(By.ID, "resume").click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "scheduler-status").get_attribute("data-paused") == "false")
        check("resume restarts promo posts", "running" in driver.find_element(By.ID, "scheduler-status").text)
        driver.save_screenshot(os.path.join(OUTPUT, "admin-console.png"))

        # --- hygiene ------------------------------------------------------------------------------------------------
        console_errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
                          and "Content Security Policy" in e.get("message", "")]
        check("no CSP violations in the browser console", not console_errors, str(console_errors))
        driver.find_element(By.ID, "lock").click()
        check("Forget token locks the console again",
              driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "locked")
        # The Grafana dashboard's queries name only metrics this server exports (scripts/check-dashboard checks the
        # docs; this checks a real scrape). reconcile_last_success_timestamp_seconds exists only while serve
        # reconciles, which this test turns off.
        exported = metric_families(base)
        wanted = set()
        for expr in dashboard_queries():
            wanted.update(CHECK_DASHBOARD.metric_names(expr))
        missing = sorted(n for n in wanted if family_of(n) not in exported
                         and family_of(n) != "reconcile_last_success_timestamp_seconds")
        check("every metric the Grafana dashboard uses is on /metrics", wanted and not missing, str(missing))
        with open(log_path) as f:
            server_log = f.read()
        check("the admin token never appears in the server log", ADMIN_TOKEN not in server_log)
    except Exception as error:  # a crash is a failure, with its reason
        crashed(error, "admin console test", driver, "admin-console-failure.png")
    finally:
        tear_down(driver, server, [bot_server, stripe_server], database)

    return summary("admin console", log_path)


if __name__ == "__main__":
    sys.exit(main())
