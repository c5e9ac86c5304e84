"""Reading the reconciliation phase's results: /metrics, the instances' logs, reconcile_runs and the ledger."""
import collections
import http.client
import json
import re

from .payments import rpsql


LAST_SUCCESS = {}  # port -> provider -> reconcile_last_success_timestamp_seconds, filled by scrape_recovered


def scrape_recovered(port):
    """provider -> reconcile_recovered_total of one instance (0 when absent); None when /metrics did not answer.
    Also records the instance's reconcile_last_success_timestamp_seconds in LAST_SUCCESS."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode("utf8", "replace")
        conn.close()
    except (OSError, http.client.HTTPException):
        return None
    if resp.status != 200:
        return None
    out = collections.Counter()
    for line in text.splitlines():
        m = re.match(r'^reconcile_recovered_total\{[^}]*provider="([a-z_]+)"[^}]*\}\s+([0-9.eE+-]+)', line)
        if m:
            out[m.group(1)] += int(float(m.group(2)))
        m = re.match(r'^reconcile_last_success_timestamp_seconds\{[^}]*provider="([a-z_]+)"[^}]*\}\s+([0-9.eE+-]+)',
                     line)
        if m:
            LAST_SUCCESS.setdefault(port, {})[m.group(1)] = float(m.group(2))
    return out


def logged_recoveries(instances):
    """provider -> event ids the instances logged as recovered (a list: an id twice means applied twice)."""
    out = collections.defaultdict(list)
    for inst in instances:
        try:
            with open(inst.log_path, "r", errors="replace") as f:
                for line in f:
                    if "recovered" not in line:
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == "Stripe event recovered":
                        out["stripe"].append(rec.get("event_id"))
                    elif rec.get("msg") == "Stars transaction recovered":
                        out["telegram_stars"].append(rec.get("event_id"))
        except OSError:
            pass
    return out


def runs_after(ctx, epoch):
    """provider -> (runs started after `epoch` and finished, of them with nothing failed)."""
    out = {}
    for r in rpsql(ctx, """
            SELECT provider, count(*) FILTER (WHERE finished_at IS NOT NULL),
                   count(*) FILTER (WHERE finished_at IS NOT NULL AND failed = 0)
            FROM reconcile_runs WHERE started_at > to_timestamp(%f) GROUP BY 1""" % epoch):
        provider, finished, clean = r.split("|")
        out[provider] = (int(finished), int(clean))
    return out


def ledger_counts(ctx):
    """provider -> (rows, distinct ids, processed rows) for this phase's ids."""
    out = {}
    for r in rpsql(ctx, """
            SELECT provider, count(*), count(DISTINCT event_id), count(*) FILTER (WHERE status = 'processed')
            FROM payment_events
            WHERE (provider = 'stripe' AND event_id LIKE 'evt\\_drill\\_rec%')
               OR (provider = 'telegram_stars' AND event_id LIKE 'strec%')
            GROUP BY 1"""):
        provider, n, distinct, processed = r.split("|")
        out[provider] = (int(n), int(distinct), int(processed))
    return out
