"""python -m localaws [--host 127.0.0.1] [--port 4566] [--verbose] [--time-scale X] [--exit-with PID]

``--exit-with PID`` ties the local AWS to another process: it stops (as on Ctrl-C) as soon as
that process has exited. ``helpers.connect`` passes the calling kernel's (or script's) pid when it
has to start a local AWS itself, so that a headless run (papermill, nbclient, a script) leaves
nothing running behind it; ``make lab`` passes its launcher's pid; ``binder/start`` passes none
(the container's life is the limit).
"""
from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
import threading
import time

from . import DEFAULT_HOST, DEFAULT_PORT, LocalAWSError, check_loopback, probe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws",
                                     description="Run the workbook's local AWS on loopback.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--time-scale", type=float, default=None, metavar="X",
                        help="AWS's waits and quotas times X (default $LOCALAWS_TIME_SCALE or 0.1; "
                             "0 = instant, 1 = AWS's own timing)")
    parser.add_argument("--exit-with", type=int, metavar="PID",
                        help="stop when the process PID has exited (e.g. the kernel that started it)")
    args = parser.parse_args(argv)
    if args.time_scale is not None:
        if args.time_scale < 0:
            print("error: --time-scale must be 0 or more", file=sys.stderr)
            return 2
        os.environ["LOCALAWS_TIME_SCALE"] = str(args.time_scale)
    try:
        check_loopback(args.host)
    except LocalAWSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    endpoint = f"http://{host}:{args.port}"
    running = probe(endpoint)
    if running:
        print(f"The local AWS is already running at {endpoint} (version {running['version']}); "
              "reusing it.", flush=True)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    from .server import Server

    try:
        server = Server(args.host, args.port)
    except OSError as err:
        print(f"error: cannot listen on {endpoint}: {err.strerror}. Another program uses the "
              "port; pass --port to choose another.", file=sys.stderr)
        return 2
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM (from `kill`, or the Lab launcher stopping) stops it as Ctrl-C does, so that the
    # Lambda workers and their temporary folders (function code, credentials) go with it.
    signal.signal(signal.SIGTERM, interrupt)
    print(f"The local AWS is running at {server.endpoint_url}  (credentials test/test; "
          "Ctrl-C stops it)", flush=True)
    try:
        if args.exit_with:
            watch_process(args.exit_with, lambda: os.kill(os.getpid(), signal.SIGTERM))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    try:  # an exited child not yet reaped by its parent is gone for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def watch_process(pid: int, then, poll: float = 1.0) -> threading.Thread:
    """Call ``then()`` once process ``pid`` has exited (a daemon thread watches it).

    On Linux a pidfd says so at once and cannot be fooled by a reused pid; elsewhere the pid is
    polled every ``poll`` seconds."""
    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            try:
                select.select([fd], [], [])
            finally:
                os.close(fd)
        else:
            while _alive(pid):
                time.sleep(poll)
        then()

    thread = threading.Thread(target=watch, name=f"exit-with-{pid}", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    sys.exit(main())
