"""The local AWS: moto's control plane plus the data plane moto lacks, on 127.0.0.1.

    python -m localaws [--host 127.0.0.1] [--port 4566]

From Python::

    import localaws
    server = localaws.start(port=0)   # a free port, served from a thread
    server.endpoint_url               # 'http://127.0.0.1:54321'
    server.stop()

``ensure_running(endpoint_url)`` reuses a local AWS already listening there, or starts one in a
background process that outlives the caller (the workbook's notebooks use it).

Importing this package loads neither moto nor werkzeug: ``start`` imports server.py (the top
of the local AWS's layers, described there) only when it is called.
"""
from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .about import SERVICE_NAME, __version__

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566

__all__ = ["start", "ensure_running", "probe", "LocalAWSError", "DEFAULT_HOST", "DEFAULT_PORT"]


class LocalAWSError(RuntimeError):
    """The local AWS could not start, or was asked to listen beyond loopback."""


def check_loopback(host: str) -> None:
    """The local AWS has no authentication worth the name: it only listens on loopback."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise LocalAWSError(
        f"refusing to listen on {host!r}: the local AWS binds loopback only "
        "(use 127.0.0.1, another 127.x.y.z address, ::1 or localhost)"
    )


def probe(endpoint_url: str, timeout: float = 1.0) -> dict | None:
    """The health record of a local AWS at ``endpoint_url``, or None if none answers there."""
    try:
        with urllib.request.urlopen(endpoint_url.rstrip("/") + "/_aws/health", timeout=timeout) as r:
            data = json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if data.get("service") == SERVICE_NAME else None


def start(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """Start a local AWS in this process, served from a thread; ``port=0`` picks a free port."""
    check_loopback(host)
    from .server import Server

    try:
        return Server(host, port).start()
    except OSError as err:
        raise LocalAWSError(
            f"could not listen on {host}:{port} ({err.strerror}); another program may use the "
            "port: pick another with port=..."
        ) from err


def server_environment() -> dict[str, str]:
    """The environment a local AWS process starts with. Upload bodies pass through in 1 MiB
    chunks on many threads; two malloc arenas (instead of one per thread) let glibc reuse that
    memory instead of keeping a copy of it per thread."""
    return {"MALLOC_ARENA_MAX": "2", **os.environ}


def ensure_running(endpoint_url: str, *, wait: float = 30.0, log_path: str | None = None) -> dict:
    """Reuse the local AWS at ``endpoint_url`` or start one there in a background process.

    Returns ``{"endpoint_url", "started": bool, "pid"}``.
    """
    parts = urlsplit(endpoint_url)
    host, port = parts.hostname or DEFAULT_HOST, parts.port or DEFAULT_PORT
    check_loopback(host)  # before any request: the workbook only talks to loopback
    if probe(endpoint_url):
        return {"endpoint_url": endpoint_url, "started": False, "pid": None}
    with open(log_path or os.devnull, "ab") as log_file:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "localaws", "--host", host, "--port", str(port)],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=server_environment(),
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if probe(endpoint_url):
            return {"endpoint_url": endpoint_url, "started": True, "pid": process.pid}
        if process.poll() is not None:
            if probe(endpoint_url):  # another caller started one at the same moment: reuse it
                return {"endpoint_url": endpoint_url, "started": False, "pid": None}
            raise LocalAWSError(
                f"the local AWS exited with code {process.returncode} while starting on "
                f"{host}:{port}; is the port used by another program?"
            )
        time.sleep(0.2)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    raise LocalAWSError(f"the local AWS did not answer on {endpoint_url} within {wait:.0f} s")
