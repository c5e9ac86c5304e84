"""telebot sandbox: loopback stand-ins for the Telegram Bot API and Stripe (python3 standard library only).

One process, two HTTP servers on 127.0.0.1:

  Bot API  (TELEGRAM_API_BASE_URL)  POST /bot<TOKEN>/<method>   the fakes' ScriptedBotAPI: JSON bodies (a form body
                                     or query parameters are read as one), its answers and its 400s; a
                                     `createInvoiceLink` link points at /invoice/<id> below
           GET  /invoice/<id>        the page a `createInvoiceLink` link opens: "Pay" sends telebot a
                                     pre_checkout_query update, waits for the answer (in the webhook's
                                     response body, as telebot sends it, or as an answerPreCheckoutQuery call),
                                     then a message.successful_payment update, and returns to the Mini App
           GET  /demo                redirects to the Mini App with freshly signed initData (demo user)
           GET  /demo/init-data      the same as JSON: {"init_data", "url", "telegram_id"}
  Stripe   (STRIPE_API_BASE_URL)    /v1/...  the fakes' StatefulStripe: Bearer (or Basic) key, Idempotency-Key
                                     replays and mismatches, customers, Checkout and portal sessions (their url
                                     the pages below, a session's amount from its price), refunds, GET of what it
                                     stores (the paid session, its subscription and invoice too), POST
                                     /v1/subscriptions/<id> (cancel_at_period_end, then customer.subscription
                                     .updated is sent), Stripe's error bodies
           GET  /checkout/<cs_id>    Checkout page: "Pay" sends telebot checkout.session.completed (and, for a
                                     subscription, customer.subscription.created and invoice.paid with the price
                                     and the period on its line), each signed like Stripe signs webhooks, then
                                     redirects to the session's success_url
           GET  /portal/<bps_id>     billing portal: the customer's subscriptions, "Cancel" sends
                                     customer.subscription.deleted, "Return" goes to return_url
           GET  /invoices/<in_id>    hosted invoice page (hosted_invoice_url of the invoices it sends)
  both     GET  /sandbox/calls       recent calls and webhook deliveries as JSON (no secrets)
           GET  /sandbox/health      {"ok": true}

Secrets come from the environment only (never from arguments, never printed): TELEGRAM_BOT_TOKEN,
TELEGRAM_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET (the first of a comma-separated list signs), and STRIPE_API_KEY
(when set, the Stripe stand-in requires exactly that key; otherwise any sk_/rk_ key).

Usage:
  scripts/sandbox.py [serve] [--telebot-url URL] [--miniapp-url URL] [--telegram-port N] [--stripe-port N]
                             [--ports-file PATH] [--user-id ID] [--price PRICE=AMOUNT[:DAYS]]...
  scripts/sandbox.py init-data [--user-id ID]            prints freshly signed initData
  scripts/sandbox.py demo-url  [--miniapp-url URL]       prints the Mini App URL with #tgWebAppData=...

Ports 0 (the default) pick free ones; --ports-file gets KEY=value lines (TELEGRAM_API_BASE_URL=...,
STRIPE_API_BASE_URL=..., SANDBOX_TELEGRAM_PORT=..., SANDBOX_STRIPE_PORT=...) once both listen.
Each call is logged to stderr as one line starting with [sandbox].

The Stripe API and the Bot API are the project's one fake Stripe and one fake Bot API (telebot_py.fakes), served
through the fakes' one HTTP plumbing, so the demo, the Swift tests, the drill, the fuzz and the browser tests meet
the same semantics and error strings. The sandbox plugs in its hooks (key policy, random ids, its pages' URLs, a
session's amount from --price, createInvoiceLink's link) and keeps only what is demo-specific: its pages, the signed
webhooks and updates it sends telebot, its call log, its command line and log lines.

The code: common (its own state, initData, webhook POSTs, page frame), server (what both ports share: health, the
call log, answers), telegram + stars (the Bot API port, the Stars invoice page), stripe_api + checkout (the Stripe
port, the Checkout / portal / invoice pages), main (configuration, serve, command line).
"""
