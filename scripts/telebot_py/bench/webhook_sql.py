"""scripts/bench-webhook: compares the statements serve ran (PostgreSQL log_statement=all, argv[1]) with the pgbench
scripts (argv[2:]: new event, duplicate), placeholders and whitespace aside. Exit 1 when they differ."""
import re
import sys


def main(argv):
    stmts, cur = [], None
    for line in open(argv[1], errors="replace").read().splitlines():
        m = re.match(r"^\d{4}-\d\d-\d\d [\d:.]+ \w+ \[\d+\] (LOG|DETAIL):\s+(.*)$", line)
        if m:
            if cur is not None: stmts.append(cur)
            cur = re.sub(r"^(execute \w+|statement): ", "", m.group(2)) if m.group(1) == "LOG" else None
        elif cur is not None and line.startswith("\t"):
            cur += "\n" + line[1:]
    if cur is not None: stmts.append(cur)
    norm = lambda t: re.sub(r"\s+", " ", re.sub(r"\$\d+", "?", t)).strip().rstrip(";")
    server = [norm(s) for s in stmts]
    transactions, current = [], []
    for s in server:
        current.append(s)
        if s == "COMMIT": transactions.append(current); current = []
    ok = True
    for name, path, txn in zip(("new event", "duplicate"), argv[2:], transactions):
        body = "\n".join(l for l in open(path).read().splitlines() if not l.startswith(("--", "\\set")))
        script = [norm(re.sub(r":\w+", "?", p)) for p in re.split(r";\n|\\gset \w+\n", body) if p.strip()]
        same = script == txn
        ok = ok and same
        print(f"{name}: {len(txn)} statements from serve, {len(script)} in {path.split('/')[-1]}: {'identical' if same else 'DIFFERENT'}")
        if not same:
            for a, b in zip(txn + [""] * len(script), script + [""] * len(txn)):
                if a != b: print("  serve:  ", a[:400], "\n  pgbench:", b[:400])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
