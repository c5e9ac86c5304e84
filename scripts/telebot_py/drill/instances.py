"""`telebot serve` instances, the Bot API / Stripe stub they talk to, and one HTTP request on a kept-alive
connection."""
import http.client
import os
import signal
import subprocess
import time

from ..cluster import free_port  # noqa: F401  (re-exported for the phases)
from ..fakes import FakeBotAPI, FakeProviders, FakeStripe, message
from .config import SHUTDOWN_GRACE


def start_stub(ctx):
    """The Bot API / Stripe API the instances call: send* answer a Message, createInvoiceLink a link, anything else
    `true`; Stripe's GET /v1/invoice_payments finds the invoice of a payment intent (ctx.invoice_of_payment_intent),
    anything else answers a stub object. Its log (stub.log) names the method only: the path holds the bot token."""
    def invoice_payments(call, _):
        payment_intent = (call.query.get("payment[payment_intent]") or [""])[0]
        invoice = ctx.invoice_of_payment_intent.get(payment_intent)
        data = [] if invoice is None else [{
            "id": "inpay_" + invoice, "object": "invoice_payment", "invoice": invoice, "is_default": True,
            "status": "paid", "payment": {"type": "payment_intent", "payment_intent": payment_intent}}]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}

    def log(call, status):
        with open(os.path.join(ctx.cfg.out, "stub.log"), "a") as f:
            f.write("%s %s\n" % (time.strftime("%H:%M:%S"), call.path.rsplit("/", 1)[-1]))

    bot = FakeBotAPI(default=lambda call: message(date=int(time.time())) if call.name.startswith("send") else (
        "https://t.me/$drill" if call.name == "createInvoiceLink" else True))
    stripe = FakeStripe([(None, r".*/invoice_payments", invoice_payments)],
                        fallback=lambda call: (200, {"id": "stub_1", "object": "stub",
                                                     "url": "https://stripe.example/stub"}))
    return FakeProviders(bot, stripe).start(log=log)


class Instance:
    def __init__(self, ctx, index, port, stub_port, database_url=None, extra_env=None):
        self.ctx = ctx
        self.index = index
        self.port = port
        self.stub_port = stub_port
        self.database_url = database_url or ctx.cfg.database_url
        self.extra_env = extra_env or {}
        self.proc = None
        self.log_path = os.path.join(ctx.cfg.out, "instance-%d.log" % index)
        self.starts = 0

    def env(self):
        cfg, sec = self.ctx.cfg, self.ctx.secrets
        env = {k: cfg.env[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in cfg.env}
        stub = "http://127.0.0.1:%d" % self.stub_port
        env.update({
            "DATABASE_URL": self.database_url, "HOST": "127.0.0.1", "PORT": str(self.port), "DB_POOL_SIZE": "8",
            "MIGRATIONS_DIR": os.path.join(cfg.root, "sql"), "TELEGRAM_BOT_TOKEN": sec.bot_token,
            "TELEGRAM_WEBHOOK_SECRET": sec.tg_secret, "TELEGRAM_API_BASE_URL": stub + "/",
            "STRIPE_API_KEY": "sk_test_drill", "STRIPE_WEBHOOK_SECRET": sec.stripe_secret,
            "STRIPE_API_BASE_URL": stub, "JWT_SECRET": sec.jwt_secret, "ADMIN_TOKEN": sec.admin_token,
            "LOG_FORMAT": "json", "LOG_LEVEL": "info",
            "PUBLIC_BASE_URL": "http://127.0.0.1:%d" % self.port, "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE),
        })
        env.update(self.extra_env)
        return env

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("--- drill: start #%d of instance %d on port %d at %s ---\n"
                       % (self.starts, self.index, self.port, time.strftime("%H:%M:%S"))).encode())
            log.flush()
            self.proc = subprocess.Popen([self.ctx.cfg.bin, "serve"], env=self.env(), cwd=self.ctx.cfg.root,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.ctx.pid_started(self.proc.pid)

    def reaped(self):
        self.ctx.pid_reaped(self.proc.pid)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.reaped()
                raise RuntimeError("instance %d exited with %s while starting; log: %s"
                                   % (self.index, self.proc.returncode, self.log_path))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/ready")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError("instance %d not ready after %ds; log: %s" % (self.index, timeout, self.log_path))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reaped()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.reaped()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=SHUTDOWN_GRACE + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reaped()


def start_instances(ctx, first_index, n, stub_port, database_url=None, extra_env=None, avoid=()):
    """n instances on distinct free ports (not in `avoid`), started and ready. Returns (instances, ports)."""
    ports = []
    while len(ports) < n:
        p = free_port()
        if p not in ports and p not in avoid:
            ports.append(p)
    instances = [Instance(ctx, first_index + i, ports[i], stub_port, database_url, extra_env) for i in range(n)]
    return instances, ports


def http_call(conns, port, method, path, body, headers, timeout=30):
    """One request on a kept-alive connection. Returns (status, body, error name)."""
    conn = conns.get(port)
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conns[port] = conn
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.will_close:
            conn.close()
            conns.pop(port, None)
        return resp.status, data, None
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        conns.pop(port, None)
        return None, b"", type(e).__name__


def fault_pg_restart(ctx):
    def fn():
        started = time.monotonic()
        ctx.cluster.restart()
        return "pg_ctl restart -m fast took %.2fs" % (time.monotonic() - started)
    return fn


def fault_kill(instance):
    def fn():
        instance.kill9()
        down = time.monotonic()
        time.sleep(0.5)
        instance.start()
        instance.wait_ready(60)
        return "instance %d SIGKILLed, started again, ready after %.2fs" % (instance.index, time.monotonic() - down)
    return fn
