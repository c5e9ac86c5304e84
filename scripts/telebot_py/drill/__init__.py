"""The fault drills (scripts/drill): phases 1-5 (phases, outage, pgbouncer), the database checks (checks,
db_checks), sending (engine), what is sent (stripe_events, stars), serve instances and their stub (instances), the
configuration (config: Config.from_env), phase 6 (reconcile). Entry point: main.run()."""
