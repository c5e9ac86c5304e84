#!/usr/bin/env bash
# scripts/test's static stage, sourced by it: checks that need no build and end the run on a failure ("no tests
# ran"). Uses the caller's ROOT.
#
#   check_self_contained    no tracked file refers outside the repository
#   check_transactions      scripts/lint-transactions (and its --self-test)
#   static_checks           scripts/check-layers (and --self-test), scripts/test-python, scripts/check-format

# --- the repository is self-contained ------------------------------------------------------
# Nothing tracked may read or point outside the repository: a fresh clone has no sibling 'shared' folder.
# (The pattern is built from two pieces so that this script does not match itself.)
check_self_contained() {
    OUTSIDE_PATTERN='..''/shared'
    outside_refs() {
        if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
            git -C "$ROOT" grep -n -I -F -e "$OUTSIDE_PATTERN" -- . || true
        else
            grep -rnI -F -e "$OUTSIDE_PATTERN" --exclude-dir=.build --exclude-dir='.build-*' --exclude-dir=.data \
                --exclude-dir=test-output "$ROOT" || true
        fi
    }
    OUTSIDE_REFS="$(outside_refs)"
    if [ -n "$OUTSIDE_REFS" ]; then
        printf '%s\n' "$OUTSIDE_REFS" >&2
        echo "scripts/test: FAIL - tracked files refer to $OUTSIDE_PATTERN, outside the repository (lines above); no tests ran"
        exit 1
    fi
}

# --- a unit of database work awaits only its own statements ---------------------------------------------------
# scripts/lint-transactions: inside pool.transaction/withConnection and every function taking a PGConnection, each
# await is a statement on that connection or a call handed it — never Stripe, Telegram or a sleep. Its self-test
# proves it still finds planted violations.
check_transactions() {
    if command -v python3 >/dev/null 2>&1; then
        if ! LINT_OUT="$(python3 "$ROOT/scripts/lint-transactions" --self-test 2>&1 && cd "$ROOT" && python3 scripts/lint-transactions Sources 2>&1)"; then
            printf '%s\n' "$LINT_OUT" >&2
            echo "scripts/test: FAIL - scripts/lint-transactions (lines above); no tests ran"
            exit 1
        fi
        printf '%s\n' "$LINT_OUT" >&2
    fi
}

# --- static checks: layering, formatting, the scripts' own tests -----------------------------------------------
# scripts/check-layers: imports and target dependencies follow the layering (its --self-test plants bad imports);
# scripts/check-format: swift-format's lint with .swift-format; scripts/test-python: unit tests of scripts/telebot_py
# (fakes, signing, the drill's pieces). Each fails the run before anything is built.
static_check() {
    local name="$1"; shift
    local out
    if ! out="$("$@" 2>&1)"; then
        printf '%s\n' "$out" >&2
        echo "scripts/test: FAIL - $name (lines above); no tests ran"
        exit 1
    fi
    printf '%s\n' "$out" | tail -n 2 >&2
}
static_checks() {
    if command -v python3 >/dev/null 2>&1; then
        static_check "scripts/check-layers --self-test" python3 "$ROOT/scripts/check-layers" --self-test
        static_check "scripts/check-layers" python3 "$ROOT/scripts/check-layers" --root "$ROOT"
        static_check "scripts/test-python" bash "$ROOT/scripts/test-python"
    fi
    static_check "scripts/check-format" bash "$ROOT/scripts/check-format"
}
