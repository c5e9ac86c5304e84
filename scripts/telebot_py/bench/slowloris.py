"""scripts/bench-slowloris: PORT STALLED REQUESTS SERVE_PID: latency of normal requests while STALLED connections
never finish their headers, and how many of those the server closed."""
import http.client
import os
import socket
import sys
import time


def main(argv):
    port, stalled, requests, pid = int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    def fds():
        return len(os.listdir(f"/proc/{pid}/fd"))
    before = fds()
    socks = []
    for _ in range(stalled):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        socks.append(s)
    started = time.time()
    during = fds()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat = []
    for _ in range(requests):
        t = time.perf_counter()
        conn.request("GET", "/health/live")
        conn.getresponse().read()
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"normal requests: {requests} with {stalled} stalled connections open: p50 {p(0.5):.2f} ms, "
          f"p99 {p(0.99):.2f} ms, max {lat[-1]:.2f} ms")
    # Wait past the 10 s header deadline, then count the stalled connections the server closed.
    time.sleep(max(0.0, 12.5 - (time.time() - started)))
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print(f"stalled connections closed by the server within ~12 s: {closed} of {stalled}")
    print(f"serve file descriptors: before {before}, with the stalled connections {during}, after {fds()}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
