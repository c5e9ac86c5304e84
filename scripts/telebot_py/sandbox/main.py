"""The sandbox's configuration, `serve` and the command line (scripts/sandbox.py)."""
import argparse
import os
import re
import signal
import threading

from . import __doc__ as DOC
from .common import DEFAULT_PRICES, DEMO_TELEGRAM_ID, State, demo_url, log, signed_init_data
from .stripe_api import StripeSandbox
from .telegram import TelegramSandbox

# --- configuration and main -----------------------------------------------------------------------------------------

class Config:
    def __init__(self, args, env):
        self.host = args.host
        self.telebot_url = (args.telebot_url or env.get("TELEBOT_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.miniapp_url = args.miniapp_url or env.get("SANDBOX_MINIAPP_URL") or self.telebot_url + "/miniapp/"
        self.user_id = int(args.user_id or env.get("DEMO_TELEGRAM_ID") or DEMO_TELEGRAM_ID)
        self.bot_token = env.get("TELEGRAM_BOT_TOKEN", "")
        self.webhook_secret = env.get("TELEGRAM_WEBHOOK_SECRET", "")
        self.stripe_webhook_secret = (env.get("STRIPE_WEBHOOK_SECRET", "").split(",")[0]).strip()
        self.stripe_api_key = env.get("STRIPE_API_KEY", "")
        self.prices = dict(DEFAULT_PRICES)
        for spec in getattr(args, "price", None) or []:
            match = re.fullmatch(r"([A-Za-z0-9_]+)=(\d+)(?::(\d+))?(?::([a-z]{3}))?", spec)
            if not match:
                raise SystemExit(f"sandbox: bad --price {spec!r} (want PRICE_ID=AMOUNT[:DAYS][:CURRENCY])")
            self.prices[match.group(1)] = (int(match.group(2)), match.group(4) or "usd", int(match.group(3) or 30))

    def price(self, price_id):
        if price_id in self.prices:
            return self.prices[price_id]
        return (999, "usd", 365 if "year" in price_id else 30)


def serve(args):
    config = Config(args, os.environ)
    missing = [name for name, value in (("TELEGRAM_BOT_TOKEN", config.bot_token),
                                        ("TELEGRAM_WEBHOOK_SECRET", config.webhook_secret),
                                        ("STRIPE_WEBHOOK_SECRET", config.stripe_webhook_secret)) if not value]
    if missing:
        raise SystemExit("sandbox: set " + ", ".join(missing) + " in the environment (the same values telebot uses)")
    state = State(config)
    telegram = TelegramSandbox(state).start(config.host, args.telegram_port)
    stripe = StripeSandbox(state).start(config.host, args.stripe_port)
    if args.ports_file:
        tmp = args.ports_file + ".tmp"
        with open(tmp, "w") as out:
            out.write(f"TELEGRAM_API_BASE_URL={telegram.base_url}\nSTRIPE_API_BASE_URL={stripe.base_url}\n"
                      f"SANDBOX_TELEGRAM_PORT={telegram.port}\nSANDBOX_STRIPE_PORT={stripe.port}\n")
        os.replace(tmp, args.ports_file)
    log(f"Bot API on {telegram.base_url}, Stripe on {stripe.base_url}; webhooks go to {config.telebot_url}; "
        f"demo user {config.user_id}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    for service in (telegram, stripe):
        service.stop()
    log("stopped")
    return 0


def main(argv):
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["serve"] + argv
    parser = argparse.ArgumentParser(prog="sandbox.py", description=DOC.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the Bot API and Stripe stand-ins")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--telegram-port", type=int, default=int(os.environ.get("SANDBOX_TELEGRAM_PORT") or 0))
    run.add_argument("--stripe-port", type=int, default=int(os.environ.get("SANDBOX_STRIPE_PORT") or 0))
    run.add_argument("--ports-file", help="write TELEGRAM_API_BASE_URL=... / STRIPE_API_BASE_URL=... lines here")
    run.add_argument("--price", action="append", help="PRICE_ID=AMOUNT[:DAYS][:CURRENCY] (amount in cents)")
    for command in (run, commands.add_parser("init-data", help="print freshly signed initData"),
                    commands.add_parser("demo-url", help="print the Mini App URL with signed initData")):
        command.add_argument("--telebot-url", help="telebot's base URL (default $TELEBOT_URL or http://127.0.0.1:8080)")
        command.add_argument("--miniapp-url", help="the Mini App page (default <telebot-url>/miniapp/)")
        command.add_argument("--user-id", type=int, help=f"demo Telegram user id (default {DEMO_TELEGRAM_ID})")
        command.set_defaults(host="127.0.0.1")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    config = Config(args, os.environ)
    if not config.bot_token:
        raise SystemExit("sandbox: set TELEGRAM_BOT_TOKEN in the environment")
    init_data = signed_init_data(config.bot_token, config.user_id)
    print(init_data if args.command == "init-data" else demo_url(config.miniapp_url, init_data))
    return 0
