"""API Gateway's control-plane quotas: the fixed per-account request rates of
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html ("API Gateway quotas for
creating, deploying and managing an API"; they cannot be increased), in the local AWS's compressed
time (localaws/timing.py).

Supported: the operations listed in ``QUOTAS``, counted per Region (from the request's SigV4
scope; the local AWS has one account), over a sliding window; a request over quota gets what AWS sends:
429 ``TooManyRequestsException`` ``{"message": "Too Many Requests"}`` with ``Retry-After``.
botocore retries it a few times; code that makes these calls in a row must wait longer (the
workbook's helpers wait as long as Retry-After says).

Limitations: the account-wide rate for other operations (10 per second, burst 40) is not
applied; the edge-optimized CreateRestApi quota (1 per 30 s) is counted as the Regional one.
"""
from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from typing import Any, Callable

from .. import timing

# (method, path pattern) -> (operation, requests allowed, per AWS seconds)
QUOTAS: list[tuple[str, re.Pattern, str, int, float]] = [
    ("POST", re.compile(r"/restapis/?"), "CreateRestApi", 1, 3),
    ("PUT", re.compile(r"/restapis/[^/]+/?"), "PutRestApi", 1, 1),
    ("DELETE", re.compile(r"/restapis/[^/]+/?"), "DeleteRestApi", 1, 30),
    ("POST", re.compile(r"/restapis/[^/]+/deployments/?"), "CreateDeployment", 1, 5),
    ("POST", re.compile(r"/restapis/[^/]+/resources/[^/]+/?"), "CreateResource", 5, 1),
    ("DELETE", re.compile(r"/restapis/[^/]+/resources/[^/]+/?"), "DeleteResource", 5, 1),
    ("GET", re.compile(r"/restapis/[^/]+/resources/?"), "GetResources", 5, 2),
    ("POST", re.compile(r"/apikeys/?"), "CreateApiKey", 5, 1),
    ("DELETE", re.compile(r"/apikeys/[^/]+/?"), "DeleteApiKey", 5, 1),
    ("PATCH", re.compile(r"/usageplans/[^/]+/?"), "UpdateUsagePlan", 1, 20),
]

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/apigateway/aws4_request")


def operation(method: str, path: str) -> tuple[str, int, float] | None:
    """The quota-limited operation a control-plane request is, with its quota, or None."""
    for quota_method, pattern, name, count, period in QUOTAS:
        if method == quota_method and pattern.fullmatch(path):
            return name, count, period
    return None


class ControlPlaneQuotas:
    """Sliding-window counters per (Region, operation)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], deque] = {}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def retry_after(self, environ: dict[str, Any]) -> float | None:
        """Count the request; None if it is within quota, else the seconds until it would be."""
        found = operation(environ.get("REQUEST_METHOD", "").upper(), environ.get("PATH_INFO", ""))
        factor = timing.scale()
        if found is None or factor <= 0:
            return None
        name, count, period = found
        window = period * factor
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = scope.group(1) if scope else "us-east-1"
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault((region, name), deque())
            while calls and now - calls[0] >= window:
                calls.popleft()
            if len(calls) >= count:
                return window - (now - calls[0])
            calls.append(now)
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes] | None:
        """Answer 429 if the request is over quota; None to let it through."""
        wait = self.retry_after(environ)
        if wait is None:
            return None
        body = json.dumps({"message": "Too Many Requests"}).encode()
        start_response("429 Too Many Requests", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            ("x-amzn-ErrorType", "TooManyRequestsException"),
            ("Retry-After", str(max(1, math.ceil(wait)))),
        ])
        return [body]
