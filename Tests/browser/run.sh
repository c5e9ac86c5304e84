#!/usr/bin/env bash
# Browser test of the Mini App billing page: headless Chromium (Debian packages) driven by selenium against a
# real `telebot serve` on a database cloned from the test template, with loopback fakes for Stripe and the Bot API.
# Run by scripts/test after `swift test`, with the TELEBOT_TEST_* variables it exports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$ROOT"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "[browser] installing ${need_apt[*]} (Debian packages)" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        sudo apt-get update -qq >/dev/null
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
fi
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
    echo "[browser] installing selenium (PyPI)" >&2
    python3 -m pip install -q 'selenium==4.35.0' >/dev/null
fi
exec python3 "$ROOT/Tests/browser/billing_page_test.py"
