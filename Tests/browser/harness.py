"""What the browser tests share: the TELEBOT_TEST_* environment (scripts/test exports it), the PASS/FAIL lines and
the closing summary, psql against the test cluster, `telebot serve` on a free port, headless Chromium, and
telebot_py (scripts/ on sys.path) for signing and the fakes."""
import os
import subprocess
import sys
import time
import traceback
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
ENV = os.environ
PGHOST = ENV.get("TELEBOT_TEST_PGHOST", "/tmp/devpg")
PGPORT = ENV.get("TELEBOT_TEST_PGPORT", "55432")
PGUSER = ENV.get("TELEBOT_TEST_PGUSER", "postgres")
TEMPLATE = ENV.get("TELEBOT_TEST_TEMPLATE", "telebot_template")
OUTPUT = ENV.get("TELEBOT_TEST_OUTPUT", os.path.join(ROOT, "test-output"))
TELEBOT = os.path.join(ROOT, ".build", "debug", "telebot")

from telebot_py.cluster import free_port  # noqa: E402,F401  (re-exported for the tests)

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition), detail))
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f" ({detail})"), flush=True)


def summary(label, log_path):
    """Prints '<label>: N passed, N failed' (Tests/browser/run.sh adds these up); returns the exit status."""
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{label}: {passed} passed, {failed} failed")
    if failed:
        print(f"[browser] server log: {log_path}", file=sys.stderr)
    return 1 if failed else 0


def psql(database, sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", PGHOST, "-p", PGPORT, "-U", PGUSER,
         "-d", database, "-c", sql],
        check=True, capture_output=True, text=True)
    return out.stdout.strip()


def drop_database(database):
    try:
        psql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    except subprocess.CalledProcessError:
        pass


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait_ready(base, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"telebot serve exited with {process.returncode}")
        try:
            if get(base + "/health/ready", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("telebot serve did not become ready")


def start_serve(database, port, log_path, settings):
    """`telebot serve` (debug build) on 127.0.0.1:port against `database`, with `settings` over the environment."""
    env = dict(ENV)
    env.update({"DATABASE_URL": f"host={PGHOST} port={PGPORT} user={PGUSER} dbname={database}",
                "HOST": "127.0.0.1", "PORT": str(port), "MIGRATIONS_DIR": os.path.join(ROOT, "sql")})
    env.update(settings)
    return subprocess.Popen([TELEBOT, "serve"], env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def chromium(window_size, browser_log=False):
    """Headless Chromium (Debian's chromium + chromium-driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=" + window_size):
        options.add_argument(arg)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def crashed(error, what, driver, screenshot):
    """A crash is a failure, with its reason and a screenshot of where the page stood (`screenshot` in OUTPUT)."""
    traceback.print_exc()
    check(what + " ran to the end", False, repr(error))
    if driver is not None:
        try:
            driver.save_screenshot(os.path.join(OUTPUT, screenshot))
        except Exception:
            pass


def tear_down(driver, server, fake_servers, database):
    """Closes the browser, stops serve and the fakes, drops the test's database."""
    if driver is not None:
        driver.quit()
    stop(server)
    for fake in fake_servers:
        fake.shutdown()
    drop_database(database)
