"""The fakes host: one process that runs the scripted Bot API and the stateful Stripe for the Swift tests, so those
tests drive the same fakes as the drill, the fuzz and the browser tests instead of Swift copies of them.

    PYTHONPATH=scripts python3 -m telebot_py.fakes.host --port-file PATH --parent-pid PID

It serves the control API (control.py) on 127.0.0.1 (port 0), then writes the port (digits and a newline) to PATH
atomically (a temporary file in the same directory, renamed), so a reader never sees half a number. It exits,
stopping every fake, when process PID is gone (checked every 0.5 s: a test runner that crashed leaves nothing
behind) or on SIGTERM / SIGINT. Nothing goes to stdout; errors go to stderr.
"""
import argparse
import os
import signal
import sys
import tempfile
import threading

from .control import ControlService


def write_port_file(path, port):
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".fakes-host-port.", dir=directory)
    try:
        with os.fdopen(fd, "w") as file:
            file.write("%d\n" % port)
        os.rename(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def watch_parent(pid, stop, interval=0.5):
    while not stop.wait(interval):
        if not alive(pid):
            stop.set()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m telebot_py.fakes.host", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", required=True, help="where to write the control API's port")
    parser.add_argument("--parent-pid", type=int, required=True, help="exit when this process is gone")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    control = ControlService().start()
    try:
        write_port_file(args.port_file, control.port)
        threading.Thread(target=watch_parent, args=(args.parent_pid, stop), daemon=True).start()
        while not stop.wait(0.5):
            pass
    finally:
        control.stop()
        control.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
