"""The command line of telebot_py.cluster (see the package's docstring):

    PYTHONPATH=scripts python3 -m telebot_py.cluster start|restart|stop|destroy|sockdir|free-port ...
"""
import argparse
import os
import shutil
import subprocess
import sys

from . import Cluster, ClusterError, find_pgbin, free_port, log, sockdir_for


def stop_cluster(directory, pgbin, runas, mode):
    """pg_stop_cluster: a no-op (True) without a cluster, binaries or a running server; False when pg_ctl failed."""
    if not os.path.isdir(os.path.join(directory, "data")) or not (pgbin or find_pgbin()):
        return True
    c = Cluster.open(directory, pgbin, runas)
    if not c.is_running():
        return True
    if c.pg_ctl("-m", mode, "-w", "stop", stderr=None).returncode == 0:
        log("stopped cluster in %s" % directory)
        return True
    log("warning: could not stop cluster in %s" % directory)
    return False


def destroy_cluster(directory, pgbin, runas):
    """Immediate stop (failures ignored), then DIR and, when it lies outside DIR, its /tmp socket directory go."""
    if not os.path.isdir(directory):
        return
    directory = os.path.realpath(directory)
    sockdir = sockdir_for(directory)
    if os.path.isdir(os.path.join(directory, "data")) and (pgbin or find_pgbin()):
        c = Cluster.open(directory, pgbin, runas)
        if c.is_running():
            c.pg_ctl("-m", "immediate", "-w", "stop")
    shutil.rmtree(directory, ignore_errors=True)
    if not sockdir.startswith(directory + "/"):
        shutil.rmtree(sockdir, ignore_errors=True)
    log("destroyed cluster in %s" % directory)


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--pgbin", help="directory of initdb, pg_ctl and postgres")
    common.add_argument("--runas", help='run the binaries as this user through runuser ("" for none)')
    parser = argparse.ArgumentParser(prog="python3 -m telebot_py.cluster",
                                     description="Start, stop, restart or destroy a throwaway PostgreSQL cluster.")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", parents=[common], help="initdb (once) and start")
    start.add_argument("--port", type=int, help="fixed port (default: a free one, three tries)")
    start.add_argument("--sockdir", help="socket directory (default: DIR/sock or a short /tmp path)")
    start.add_argument("--socket-only", action="store_true", help="listen on the unix socket only, not 127.0.0.1")
    sub.add_parser("restart", parents=[common], help="pg_ctl restart -m fast")
    stop = sub.add_parser("stop", parents=[common], help="stop (no-op when not running)")
    stop.add_argument("--mode", choices=("fast", "immediate"), default="fast")
    sub.add_parser("destroy", parents=[common], help="immediate stop, then remove DIR")
    sub.add_parser("sockdir", help="print the socket directory for DIR")
    sub.add_parser("free-port", help="print a free TCP port on 127.0.0.1")
    for name, p in sub.choices.items():
        if name != "free-port":
            p.add_argument("directory", metavar="DIR")
    args = parser.parse_args(argv)
    try:
        if args.command == "free-port":
            print(free_port())
        elif args.command == "sockdir":
            print(sockdir_for(os.path.realpath(args.directory)))
        elif args.command == "start":
            c = Cluster.create(args.directory, args.pgbin, args.runas, args.port, args.sockdir,
                               "" if args.socket_only else "127.0.0.1")
            sys.stdout.write(c.shell_assignments())
        elif args.command == "restart":
            c = Cluster.open(args.directory, args.pgbin, args.runas)
            if not os.path.isfile(os.path.join(c.datadir, "telebot.conf")):
                raise ClusterError("no cluster in %s (start it first)" % args.directory)
            c.restart()
            log("restarted on port %s, socket %s" % (c.port, c.host))
            sys.stdout.write(c.shell_assignments())
        elif args.command == "stop":
            return 0 if stop_cluster(args.directory, args.pgbin, args.runas, args.mode) else 1
        elif args.command == "destroy":
            destroy_cluster(args.directory, args.pgbin, args.runas)
    except (ClusterError, OSError, subprocess.SubprocessError) as e:
        log("error: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
