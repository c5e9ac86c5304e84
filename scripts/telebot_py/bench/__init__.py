"""The benchmarks' Python (scripts/bench-*): reconcile, slowloris, webhook_sql, perf_breakdown; `python3 -m
telebot_py.bench.X` from scripts/."""
