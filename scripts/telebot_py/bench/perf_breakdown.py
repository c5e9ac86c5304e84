"""scripts/bench-webhook: where serve's CPU samples go, by component (argv[1]: perf script output, argv[2]: us/event)."""
import re
import sys


def main(argv):
    # Reads `perf script -F comm,tid,ip,sym,dso | swift demangle --simplified`; prints where serve's CPU samples go.
    RULES = [
        ("Stripe JSON: re-encode data.object (StripeJSON -> Data)", r"JSONEncoder|StripeJSON\.encode|JSONWriter"),
        ("Stripe JSON: typed object (StripeInvoice, same pass)", r"ObjectBox|StripeInvoice\.init|StripeList"),
        ("Stripe JSON: envelope pass, the rest (StripeEvent)", r"JSONDecoder|StripeJSON\.init|StripeEvent\.init|StripeEvent\.Envelope|JSONMap|JSONScanner|_CodingPathNode"),
        ("logging (access log, JSON log lines)", r"JSONLogHandler|AccessLogMiddleware|LogSink|StandardOutputWriter|RFC3339|Logger\."),
        ("metrics (HTTP + webhook counters, histograms)", r"HTTPMetricsMiddleware|Prometheus|WebhookMetrics|AppMetricsFactory|CoreMetrics"),
        ("Stripe signature (HMAC, header parse)", r"StripeSignature|HMAC"),
        ("PGClient + libpq (statements, binds, decode)", r"PGConnection|PGPool|PGResult|PGRow|PGQuery|PQ[a-zA-Z]+|pqSend|pqGet|pqFlush|pqsecure|pqRead|pqWait|PaymentLedger|InvoiceStore|EntitlementStore|UserStore|PlanStore|StripeSubscriptionSync|StripeEventHandler|unix_stream|__libc_recv|__send$|__poll$"),
        ("HTTP server (NIO sockets, HTTP/1 codec)", r"BaseSocketChannel|ByteToMessage|HTTP1ToHTTPServerCodec|HTTPResponseEncoder|HTTPDecoder|BetterHTTPParser|llhttp|Socket\.|SelectableEventLoop|ChannelPipeline|ChannelHandlerContext|NIOAsyncChannel|NIOAsyncWriter|NIOAsyncSequenceProducer|HTTPServerHandler|HTTPChannelHandler"),
        ("Hummingbird router + middleware", r"Hummingbird|RouterResponder|RouterTrie|Middleware|ProblemMiddleware|RequestIDMiddleware|BodyLimitMiddleware|constructResponder|StripeWebhookRoutes"),
        ("thread pool hop (NIOThreadPool)", r"NIOThreadPool"),
        ("thread parking / wake-up (futex)", r"futex"),
        ("preempted (involuntary context switch)", r"exit_to_user_mode_loop"),
        ("malloc/free (caller not unwound)", r"^(malloc|_int_malloc|_int_free|cfree|unlink_chunk|malloc_consolidate|__malloc)"),
        ("Swift concurrency / dispatch", r"swift_task|swift_job|swift::|_dispatch|dispatch_|swift_continuation"),
    ]
    compiled = [(name, re.compile(p)) for name, p in RULES]
    samples = []
    cur = None
    for line in open(argv[1], errors="replace"):
        if not line.strip():
            if cur is not None: samples.append(cur); cur = None
            continue
        if not line.startswith((" ", "\t")):
            if cur is not None: samples.append(cur)
            cur = {"comm": line.split()[0] if line.split() else "", "frames": []}
            continue
        if cur is not None:
            parts = line.strip().split(" ", 1)
            cur["frames"].append(parts[1] if len(parts) > 1 else parts[0])
    if cur is not None: samples.append(cur)
    total = len(samples)
    counts = {}
    kernel = {}
    for s in samples:
        frames = s["frames"]
        leaf_kernel = bool(frames) and "[kernel.kallsyms]" in frames[0]
        cat = "other"
        for name, rx in compiled:
            if any(rx.search(f) for f in frames):
                cat = name; break
        if cat == "other" and leaf_kernel: cat = "other (kernel: scheduling, syscalls)"
        counts[cat] = counts.get(cat, 0) + 1
        if leaf_kernel: kernel[cat] = kernel.get(cat, 0) + 1
    per_op = float(argv[2]) if len(argv) > 2 else 0
    print(f"{total} samples of serve")
    print(f"{'where':58s} {'share':>7s} {'in kernel':>10s}" + (f" {'us/event':>9s}" if per_op else ""))
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        extra = f" {per_op * n / total:9.0f}" if per_op else ""
        print(f"{name:58s} {100.0 * n / total:6.1f}% {100.0 * kernel.get(name, 0) / total:9.1f}%{extra}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
