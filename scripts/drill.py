#!/usr/bin/env python3
"""Fault drills for telebot (issues #9, #22). Run through scripts/drill, which prepares the database and the
environment (DRILL_* variables, DATABASE_URL) and removes everything afterwards.

Phases, all against three `telebot serve` instances sharing one database:
  1. Stripe: invoice.paid deliveries mixed with reversals of some of those invoices: charge.refunded for ~10 %
     (half with `invoice`, half in the current API's shape naming only `charge` + `payment_intent`, whose invoice
     the server asks the stub's /v1/invoice_payments for), charge.dispute.created + charge.dispute.closed `lost`
     for ~5 % and `won` for ~5 %; a few users lose every invoice. 30 % duplicates, random order (so a reversal
     often arrives before its payment), round-robin, concurrency 16; PostgreSQL restarted (pg_ctl restart -m
     fast) and one instance SIGKILLed and started again during the run. A delivery that does not get a 2xx is
     re-sent later with backoff, as Stripe would.
  2. Telegram: Stars successful_payment updates and refunded_payment updates for ~10 % of the charges (every
     charge of a few users), 30 % duplicates (the same update again, or the same charge or refund in a new
     update), random order, the same faults.
  3. SIGTERM under load: requests in flight when the signal arrives complete with 2xx, nothing but 503 among
     5xx, exit code 0. Deliveries it refused are re-sent to the other instances.
  4. PostgreSQL unreachable (issue #22): pg_ctl stop -m fast for DRILL_OUTAGE_SECONDS while 8 threads keep sending
     Stripe and Stars deliveries (each refused one again on the next round): every answer a 503 within 1 s, every
     instance answering, /health/ready 503; then PostgreSQL starts, the instances must be ready again and the
     refused deliveries, re-sent, accepted.
  5. PgBouncer (issue #22), when DRILL_PGBOUNCER names the binary: pgbouncer in transaction mode in front of the
     cluster, three more instances (4-6) with DB_PREPARED_STATEMENTS=false through it, phases 1 and 2 again at
     DRILL_PGBOUNCER_EVENTS deliveries each with a PgBouncer kill + start and a PostgreSQL restart during each.
  6. Reconciliation (issue #18, scripts/drill_reconcile.py; DRILL_RECONCILE=0 skips it, DRILL_RECONCILE_ONLY=1
     runs only it): 2,000 Stripe and 2,000 Stars payments, 20 % never delivered, 10 % delivered twice, three more
     instances (7-9, database telebot_reconcile) with the periodic reconciler every 5 s, a fake Stripe /v1/events
     and Bot API getStarTransactions, one PostgreSQL restart: every payment applied once, recovered = undelivered.
Then the database is checked: every event in the ledger once and processed, exactly one grant per payment made
by that payment's event and in the state its reversals call for, no event audited twice for one grant, the
expected entitlement per user (Stripe: latest period end over the live invoices; Stars: 7 days per live charge;
`revoked` with none), nothing left `received` or `failed`. Python 3 standard library only.

The code is the package telebot_py.drill (scripts/telebot_py/drill/: config, phases, engine, checks, reconcile/...);
this file is its entry point (the configuration is read when it runs: telebot_py.drill.config.Config.from_env).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from telebot_py.drill.main import run  # noqa: E402

if __name__ == "__main__":
    sys.exit(run())
