"""telebot's Python helpers for scripts/ and Tests/browser/ (standard library only; check_openapi runs with the
openapi-spec-validator venv of scripts/check-openapi).

    signing      Telegram initData, Stripe webhook signatures, Stars invoice payloads
    fakes        one fake Bot API and one fake Stripe API (loopback HTTP servers that record their calls), and
                 the fakes host that runs their stateful versions for the Swift tests
    cluster      a throwaway PostgreSQL cluster (the settings of scripts/lib/pg.sh) and psql helpers
    drill        the fault drills (scripts/drill), reconcile: its phase 6
    sandbox      the demo's Bot API and Stripe stand-ins (scripts/sandbox.py)
    fuzz         scripts/fuzz's helpers; bench: the benchmarks' Python; wait_ready, pin_check, check_openapi: the
                 Python the other scripts used to embed in heredocs

Import it with scripts/ on sys.path (the entry points in scripts/ do this; `python3 -m telebot_py.X` from scripts/).
"""
