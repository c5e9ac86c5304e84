"""scripts/run: waits until URL (argv[1]) answers 200 while the process argv[2] lives (120 s). Exit 1 otherwise."""
import os
import sys
import time
import urllib.request


def main(argv):
    url, pid = argv[1], int(argv[2])
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            sys.exit(1)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    sys.exit(0)
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
