#!/usr/bin/env python3
"""Helpers for scripts/fuzz (standard library only; the code is telebot_py.fuzz).

    fuzz_helpers.py upstream PORTFILE        a fake Stripe API + Telegram Bot API on 127.0.0.1 (a free port, written
                                             to PORTFILE), so that checkout, portal and bot calls made while fuzzing
                                             succeed without the network
    fuzz_helpers.py initdata BOT_TOKEN TG_ID  prints Mini App initData for Telegram user TG_ID, signed as Telegram
                                             signs it (HMAC-SHA256 "WebAppData" scheme)
    fuzz_helpers.py token BASE_URL BOT_TOKEN TG_ID
                                             exchanges such initData at POST /api/v1/miniapp/auth and prints the
                                             access token
    fuzz_helpers.py wait BASE_URL SECONDS     waits until GET /health/ready answers 200
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from telebot_py import fuzz  # noqa: E402


def main(argv):
    if len(argv) == 3 and argv[1] == "upstream":
        fuzz.serve_upstream(argv[2])
    elif len(argv) == 4 and argv[1] == "initdata":
        print(fuzz.init_data(argv[2], int(argv[3])))
    elif len(argv) == 5 and argv[1] == "token":
        print(fuzz.access_token(argv[2], argv[3], int(argv[4])))
    elif len(argv) == 4 and argv[1] == "wait":
        fuzz.wait_ready(argv[2], float(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
