#!/usr/bin/env bash
# shellcheck disable=SC2034  # the *_STATUS and *_RC variables are read by scripts/test
# scripts/test's stages after swift test, sourced by it; each sets a status for the summary line and an exit code
# (BROWSER_* and DRILL_* _STATUS and _RC) and never ends the run. Call them with scripts/test's arguments: with
# arguments (a filtered swift test), both are skipped.
#
#   browser_stage "$@"   Tests/browser/run.sh (TELEBOT_SKIP_BROWSER=1 skips it)
#   drill_stage "$@"     scripts/drill (TELEBOT_SKIP_DRILL=1 or an external PostgreSQL skips it)

# optional_stage SCRIPT SKIP_VARIABLE FAILURE_NOTE WHAT [swift test arguments...]: runs $ROOT/SCRIPT unless it is
# missing, swift test arguments were given or SKIP_VARIABLE=1; sets STAGE_STATUS and STAGE_RC.
optional_stage() {
    local script="$1" skip="$2" note="$3" what="$4"
    shift 4
    STAGE_STATUS="skipped (no $script)"
    STAGE_RC=0
    [ -x "$ROOT/$script" ] || return 0
    if [ "$#" -gt 0 ]; then
        STAGE_STATUS="skipped (swift test arguments given)"
    elif [ "${!skip:-}" = "1" ]; then
        STAGE_STATUS="skipped ($skip=1)"
    else
        log "running: $script$what"
        set +e
        "$ROOT/$script"
        STAGE_RC=$?
        set -e
        if [ "$STAGE_RC" -eq 0 ]; then STAGE_STATUS="ok"; else STAGE_STATUS="FAILED (exit $STAGE_RC$note)"; fi
    fi
}

browser_stage() {
    optional_stage Tests/browser/run.sh TELEBOT_SKIP_BROWSER "" "" "$@"
    BROWSER_STATUS="$STAGE_STATUS"
    BROWSER_RC=$STAGE_RC
}

drill_stage() {
    if [ -x "$ROOT/scripts/drill" ] && [ "$#" -eq 0 ] && [ "${TELEBOT_SKIP_DRILL:-}" != "1" ] && [ -n "$EXTERNAL_PG" ]; then
        DRILL_STATUS="skipped (external PostgreSQL: the drill restarts its own cluster)"
        DRILL_RC=0
        return 0
    fi
    optional_stage scripts/drill TELEBOT_SKIP_DRILL "; logs in test-output/drill" \
        " (fault drills: 3 instances, PostgreSQL restart, SIGKILL, SIGTERM, outage, PgBouncer)" "$@"
    DRILL_STATUS="$STAGE_STATUS"
    DRILL_RC=$STAGE_RC
}
