"""The checks' bookkeeping and the comparisons behind them: pure functions of what was sent and what the database
holds (grant rows keyed by payment)."""
import collections
import time

from .config import fmt_counter


class Checks:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        return ok

    @property
    def failed(self):
        return [r for r in self.results if not r[1]]


def wait_for_retries(ctx, timeout):
    """Waits until no payment event is `received` or `failed` (the retry worker's 30 s first backoff)."""
    started = time.monotonic()
    first = None
    while True:
        lines = ctx.psql("SELECT status, count(*) FROM payment_events WHERE status IN ('received', 'failed') GROUP BY 1")
        pending = {line.split("|")[0]: int(line.split("|")[1]) for line in lines}
        if first is None:
            first = dict(pending)
        if not pending or time.monotonic() - started > timeout:
            return first, pending, time.monotonic() - started
        time.sleep(1)


def grant_rows(ctx, where):
    """payment_key -> (state, payment_event_id, event id of that ledger row) of the grants matching `where`."""
    rows = ctx.psql("""
        SELECT g.payment_key, g.state, coalesce(g.payment_event_id, 0), coalesce(p.event_id, '')
        FROM entitlement_grants g LEFT JOIN payment_events p ON p.id = g.payment_event_id
        WHERE %s""" % where)
    out = collections.defaultdict(list)
    for r in rows:
        key, state, row_id, event_id = r.split("|", 3)
        out[key].append((state, int(row_id), event_id))
    return out


def check_grants_made(checks, label, got, want):
    """One grant per payment: `want` is payment_key -> the event id that made it."""
    rows = sum(len(v) for v in got.values())
    distinct_events = len({row_id for v in got.values() for _, row_id, _ in v if row_id})
    missing = sorted(set(want) - set(got))
    unexpected = sorted(set(got) - set(want))
    twice = sorted(k for k, v in got.items() if len(v) > 1)
    wrong_event = sorted(k for k, v in got.items() if k in want and any(e != want[k] for _, _, e in v))
    checks.check("%s: exactly one grant per unique payment, made by its payment event" % label,
                 rows == len(want) and distinct_events == len(want) and not missing and not unexpected
                 and not twice and not wrong_event,
                 "grants %d (distinct payment_event_id %d), want %d; missing %d, unexpected %d, twice %d, "
                 "made by another event %d%s" % (
                     rows, distinct_events, len(want), len(missing), len(unexpected), len(twice), len(wrong_event),
                     ("; e.g. %s" % (missing or unexpected or twice or wrong_event)[:3])
                     if missing or unexpected or twice or wrong_event else ""))
    return rows, distinct_events


def check_grant_states(checks, label, got, want_state):
    """Each grant in the state its payment's reversals call for: `want_state` is payment_key -> state."""
    wrong = [(k, [s for s, _, _ in got.get(k, [])], want) for k, want in sorted(want_state.items())
             if [s for s, _, _ in got.get(k, [])] != [want]]
    states = collections.Counter(s for v in got.values() for s, _, _ in v)
    checks.check("%s: every grant in the state its refunds and disputes call for" % label, not wrong,
                 "states %s%s" % (fmt_counter(states),
                                  ("; wrong (payment key, state, want): %s (%d in all)" % (wrong[:3], len(wrong)))
                                  if wrong else ""))
    return states
