#!/usr/bin/env bash
# Browser tests of the Mini App: headless Chromium (Debian packages chromium and chromium-driver) driven by selenium
# against a real `telebot serve` on a database cloned from the test template.
#
#   billing_page_test.py   the billing page with loopback fakes for Stripe and the Bot API (in-process)
#   demo_test.py           the `scripts/run --demo` flow: the real scripts/sandbox.py process, Stripe Checkout
#                          and Stars payments end to end, screenshots test-output/demo-before.png / demo-after.png
#   admin_console_test.py  the operators' console (/admin/): a Stripe payment, lookup, refund through the confirmation,
#                          access ended, dead-event retry, reconciliation runs, marketing pause/resume; screenshots
#                          test-output/admin-console*.png
#
# Shared: harness.py (environment, PASS/FAIL lines, serve, Chromium), fakes.py (telebot_py.fakes with this suite's
# answers), admin_console_helpers.py; signing and the fakes come from scripts/telebot_py.
#
# Run by scripts/test after `swift test`, with the TELEBOT_TEST_* variables it exports.
#
# selenium (pinned) goes into a virtual environment at .build-venv/ (created when missing), never into the system
# Python: Debian and Ubuntu refuse `pip install` there (PEP 668). When `python3 -m venv` fails because the Debian
# package python3-venv is missing, it is installed with apt-get (directly as root, else through sudo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"

log() { printf '[browser] %s\n' "$*" >&2; }
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root (or sudo) to run: $*"
        return 1
    fi
}
APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null 2>&1 || { log "apt-get not found: install $* with your package manager"; return 1; }
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    log "apt-get install $* (Debian packages)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
if [ "${#need_apt[@]}" -gt 0 ]; then
    apt_install "${need_apt[@]}"
fi

VENV="$ROOT/.build-venv"
SELENIUM_VERSION="4.35.0"
make_venv() {
    rm -rf "$VENV"
    python3 -m venv "$VENV" >/dev/null 2>&1 && [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating the virtual environment $VENV"
    if ! make_venv; then
        # Debian/Ubuntu ship venv's ensurepip in a separate package, python3-venv (python3.X-venv on some releases).
        py_venv="python3-venv"
        ver="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        if command -v apt-cache >/dev/null 2>&1 && apt-cache show "python$ver-venv" >/dev/null 2>&1; then
            py_venv="python$ver-venv"
        fi
        apt_install "$py_venv" || true
        make_venv || { log "could not create $VENV with python3 -m venv (install python3-venv)"; exit 1; }
    fi
fi
PY="$VENV/bin/python"
if [ "$("$PY" -c 'import selenium; print(selenium.__version__)' 2>/dev/null)" != "$SELENIUM_VERSION" ]; then
    log "installing selenium==$SELENIUM_VERSION into $VENV (PyPI)"
    "$PY" -m pip install -q --disable-pip-version-check "selenium==$SELENIUM_VERSION" >/dev/null
fi

passed=0
failed=0
rc=0
for test in billing_page_test.py demo_test.py admin_console_test.py; do
    log "running $test"
    out="$(mktemp)"
    set +e
    "$PY" "$ROOT/Tests/browser/$test" 2>&1 | tee "$out"
    test_rc=${PIPESTATUS[0]}
    set -e
    # The closing line of each test: "<name>: N passed, N failed".
    summary="$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)"
    rm -f "$out"
    if [[ "$summary" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        log "$test printed no summary line"
        failed=$((failed + 1))
    fi
    if [ "$test_rc" -ne 0 ]; then rc=1; fi
done
[ "$failed" -eq 0 ] || rc=1
echo "browser tests: $passed passed, $failed failed"
exit "$rc"
