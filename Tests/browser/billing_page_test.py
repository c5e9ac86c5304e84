"""The Mini App billing page in a real browser.

Starts `telebot serve` (debug build) on a fresh database cloned from the test template, with loopback fakes for
Stripe and the Bot API, seeds a user with an entitlement and two invoices, opens /miniapp/ in headless Chromium
with a stub `window.Telegram.WebApp` carrying initData signed with the test bot token, and checks what a person
would see and what the page sends. Prints a closing 'N passed, N failed' line and saves a screenshot.
"""
import json
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakes  # noqa: E402
from harness import (OUTPUT, ROOT, TEMPLATE, check, chromium, crashed, free_port, psql, start_serve, summary,  # noqa: E402
                     tear_down, wait_ready)
from telebot_py import signing  # noqa: E402

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BOT_TOKEN = "123456789:BROWSER-test-token-abcdefghijklmnop"
TELEGRAM_ID = 5550001









def signed_init_data(user):
    return signing.user_init_data(BOT_TOKEN, user, query_id="AAHdF6IQAAAAAN0XohDhrOrc")




STUB = """
window.__opened = [];
window.__requests = [];
const realFetch = window.fetch.bind(window);
window.fetch = function (input, init) {
  const headers = Object.assign({}, (init && init.headers) || {});
  window.__requests.push({url: String(input), method: (init && init.method) || 'GET', headers: headers,
                          body: (init && init.body) || null});
  return realFetch(input, init);
};
window.Telegram = {WebApp: {
  initData: %s,
  ready() {}, expand() {},
  openInvoice(url, callback) { window.__opened.push(['invoice', url]); },
  openLink(url) { window.__opened.push(['link', url]); },
}};
"""


def main():
    os.makedirs(OUTPUT, exist_ok=True)
    database = "browser_" + secrets.token_hex(6)
    psql("postgres", f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    bot_server, bot_calls = fakes.start_bot_api()
    stripe_server, stripe_calls = fakes.start_stripe()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = os.path.join(OUTPUT, "browser-server.log")
    server = start_serve(database, port, log_path, {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": "browser-webhook-secret-0123456789abcdef",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{bot_server.server_address[1]}",
        "STRIPE_API_KEY": "sk_test_browser", "STRIPE_WEBHOOK_SECRET": "whsec_browser",
        "STRIPE_API_BASE_URL": f"http://127.0.0.1:{stripe_server.server_address[1]}",
        "JWT_SECRET": "browser-test-jwt-secret-0123456789abcdef",
        "PLANS_FILE": os.path.join(ROOT, "plans.example.json"),
        "LOG_FORMAT": "json", "LOG_LEVEL": "warning",
    })
    driver = None
    try:
        wait_ready(base, server)
        user_id = psql(database, f"INSERT INTO users (telegram_user_id, username, first_name) "
                                 f"VALUES ({TELEGRAM_ID}, 'ann', 'Ann') RETURNING id").splitlines()[0]
        psql(database, f"""
            INSERT INTO user_entitlements (user_id, plan, status, source, starts_at, expires_at)
            VALUES ({user_id}, 'premium_monthly', 'active', 'stripe', now(), now() + interval '20 days');
            INSERT INTO invoices (provider, provider_invoice_id, user_id, plan, amount, currency, status, hosted_url,
                                  created_at)
            VALUES ('stripe', 'in_browser_1', {user_id}, 'premium_monthly', 999, 'USD', 'paid',
                    'https://invoice.stripe.test/in_browser_1', now() - interval '2 days'),
                   ('telegram_stars', 'ch_browser_1', {user_id}, 'boost_week', 50, 'XTR', 'refunded', NULL,
                    now() - interval '1 day');
            INSERT INTO stripe_customers (user_id, customer_id) VALUES ({user_id}, 'cus_browser');
            INSERT INTO stripe_subscriptions (subscription_id, user_id, customer_id, plan, status, current_period_end,
                                              last_event_created)
            VALUES ('sub_browser', {user_id}, 'cus_browser', 'premium_monthly', 'active',
                    now() + interval '20 days', now());
        """)
        init_data = signed_init_data({"id": TELEGRAM_ID, "first_name": "Ann", "username": "ann",
                                      "language_code": "en"})

        driver = chromium("430,1000")
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*telegram.org*"]})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STUB % json.dumps(init_data)})
        driver.get(base + "/miniapp/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        ready = driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        check("page loads and signs in with initData", ready == "true",
              driver.find_element(By.ID, "error").text)

        check("current plan is shown", driver.find_element(By.ID, "plan-name").text == "Premium, monthly",
              driver.find_element(By.ID, "plan-name").text)
        status = driver.find_element(By.ID, "plan-status")
        check("plan status badge reads active", "active" in status.get_attribute("class"), status.get_attribute("class"))
        check("manage-subscription button is offered for Stripe", driver.find_element(By.ID, "manage").is_displayed())
        invoices = driver.find_elements(By.CSS_SELECTOR, "#invoices li")
        check("invoice history lists both providers", len(invoices) == 2, str(len(invoices)))
        badges = [li.find_element(By.CSS_SELECTOR, ".badge").text.lower() for li in invoices]
        check("invoices are newest first with status badges", badges == ["refunded", "paid"], str(badges))
        plans = driver.find_elements(By.CSS_SELECTOR, "#plans li")
        check("upgrade buttons are listed per plan", len(plans) >= 2, str(len(plans)))

        driver.find_element(By.CSS_SELECTOR, 'li[data-plan="boost_week"] .buy-stars').click()
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.__opened.length") > 0)
        opened = driver.execute_script("return window.__opened")
        check("Stars upgrade opens the invoice link", opened[0] == ["invoice", "https://t.me/$browser_test_invoice"],
              str(opened))
        requests = driver.execute_script("return window.__requests")
        checkout = [r for r in requests if r["url"].endswith("/api/v1/billing/checkout")]
        key = checkout[0]["headers"].get("Idempotency-Key") if checkout else None
        check("checkout is called with an Idempotency-Key", bool(key), str(checkout))
        links = bot_calls.named("createInvoiceLink")
        check("createInvoiceLink got XTR and the plan's price",
              len(links) == 1 and links[0].params.get("currency") == "XTR"
              and links[0].params.get("prices", [{}])[0].get("amount") == 50, str(links))

        driver.find_element(By.CSS_SELECTOR, 'li[data-plan="premium_monthly"] .buy-stripe').click()
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.__opened.length") > 1)
        opened = driver.execute_script("return window.__opened")
        check("card upgrade opens the Stripe Checkout URL",
              opened[1] == ["link", "https://checkout.stripe.test/cs_browser"], str(opened))
        sessions = stripe_calls.named("/v1/checkout/sessions")
        check("Stripe checkout session created once with an idempotency key",
              len(sessions) == 1 and bool(sessions[0].headers.get("Idempotency-Key")), str(sessions))

        # Cancel and resume the renewal of the card subscription.
        expiry = driver.find_element(By.ID, "plan-expiry")
        check("a renewing subscription reads 'Renews on'", expiry.text.startswith("Renews on"), expiry.text)
        renewal = driver.find_element(By.ID, "renewal")
        check("a Cancel renewal button is offered", renewal.is_displayed() and "Cancel" in renewal.text, renewal.text)
        renewal.click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "plan-expiry").text.startswith("Ends on"))
        check("after Cancel the plan reads 'Ends on'", driver.find_element(By.ID, "plan-expiry").text.startswith("Ends on"),
              driver.find_element(By.ID, "plan-expiry").text)
        updates = stripe_calls.named("/v1/subscriptions/sub_browser")
        check("Stripe was asked to cancel at the period's end",
              len(updates) == 1 and updates[0].form().get("cancel_at_period_end") == ["true"], str(updates))
        check("the database records the scheduled cancellation",
              psql(database, "SELECT cancel_at_period_end FROM stripe_subscriptions WHERE subscription_id = 'sub_browser'")
              == "t")
        driver.save_screenshot(os.path.join(OUTPUT, "miniapp-billing-canceled.png"))
        renewal = driver.find_element(By.ID, "renewal")
        check("a Resume button is offered after Cancel", "Resume" in renewal.text, renewal.text)
        renewal.click()
        WebDriverWait(driver, 10).until(
            lambda d: d.find_element(By.ID, "plan-expiry").text.startswith("Renews on"))
        check("after Resume the plan reads 'Renews on' again",
              driver.find_element(By.ID, "plan-expiry").text.startswith("Renews on"),
              driver.find_element(By.ID, "plan-expiry").text)
        updates = stripe_calls.named("/v1/subscriptions/sub_browser")
        check("Stripe was asked to resume",
              len(updates) == 2 and updates[1].form().get("cancel_at_period_end") == ["false"], str(updates))

        driver.save_screenshot(os.path.join(OUTPUT, "miniapp-billing.png"))
    except Exception as error:  # a crash is a failure, with its reason
        crashed(error, "browser test", driver, "miniapp-billing-failure.png")
    finally:
        tear_down(driver, server, [bot_server, stripe_server], database)

    return summary("browser", log_path)


if __name__ == "__main__":
    sys.exit(main())
