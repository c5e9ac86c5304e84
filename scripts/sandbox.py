#!/usr/bin/env python3
"""telebot sandbox: loopback stand-ins for the Telegram Bot API and Stripe (python3 standard library only).

The demo's entry point (scripts/run --demo, Tests/browser/demo_test.py); the code and its full description are in
the package telebot_py.sandbox (scripts/telebot_py/sandbox/). `scripts/sandbox.py --help` lists the commands:

  scripts/sandbox.py [serve] [--telebot-url URL] [--miniapp-url URL] [--telegram-port N] [--stripe-port N]
                             [--ports-file PATH] [--user-id ID] [--price PRICE=AMOUNT[:DAYS]]...
  scripts/sandbox.py init-data [--user-id ID]            prints freshly signed initData
  scripts/sandbox.py demo-url  [--miniapp-url URL]       prints the Mini App URL with #tgWebAppData=...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from telebot_py.sandbox.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
