#!/usr/bin/env bash
# shellcheck disable=SC2034  # the *_STATUS and *_RC variables are read by scripts/test
# scripts/test's stages after swift test, sourced by it; each sets a status for the summary line and an exit code
# (BROWSER_* and DRILL_* _STATUS and _RC) and never ends the run. Call them with scripts/test's arguments: with
# arguments (a filtered swift test), both are skipped.
#
#   browser_stage "$@"   Tests/browser/run.sh (TELEBOT_SKIP_BROWSER=1 skips it)
#   drill_stage "$@"     scripts/drill (TELEBOT_SKIP_DRILL=1 or an external PostgreSQL skips it)

browser_stage() {
    BROWSER_STATUS="skipped (no Tests/browser/run.sh)"
    BROWSER_RC=0
    if [ -x "$ROOT/Tests/browser/run.sh" ]; then
        if [ "$#" -gt 0 ]; then
            BROWSER_STATUS="skipped (swift test arguments given)"
        elif [ "${TELEBOT_SKIP_BROWSER:-}" = "1" ]; then
            BROWSER_STATUS="skipped (TELEBOT_SKIP_BROWSER=1)"
        else
            log "running: Tests/browser/run.sh"
            set +e
            "$ROOT/Tests/browser/run.sh"
            BROWSER_RC=$?
            set -e
            if [ "$BROWSER_RC" -eq 0 ]; then BROWSER_STATUS="ok"; else BROWSER_STATUS="FAILED (exit $BROWSER_RC)"; fi
        fi
    fi
}

drill_stage() {
    DRILL_STATUS="skipped (no scripts/drill)"
    DRILL_RC=0
    if [ -x "$ROOT/scripts/drill" ]; then
        if [ "$#" -gt 0 ]; then
            DRILL_STATUS="skipped (swift test arguments given)"
        elif [ "${TELEBOT_SKIP_DRILL:-}" = "1" ]; then
            DRILL_STATUS="skipped (TELEBOT_SKIP_DRILL=1)"
        elif [ -n "$EXTERNAL_PG" ]; then
            DRILL_STATUS="skipped (external PostgreSQL: the drill restarts its own cluster)"
        else
            log "running: scripts/drill (fault drills: 3 instances, PostgreSQL restart, SIGKILL, SIGTERM, outage, PgBouncer)"
            set +e
            "$ROOT/scripts/drill"
            DRILL_RC=$?
            set -e
            if [ "$DRILL_RC" -eq 0 ]; then DRILL_STATUS="ok"; else DRILL_STATUS="FAILED (exit $DRILL_RC; logs in test-output/drill)"; fi
        fi
    fi
}
