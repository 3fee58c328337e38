"""Lambda's Invoke API (``POST /2015-03-31/functions/{name}/invocations``), run for real.

Everything else about Lambda (create, update, publish, aliases, permissions) stays with moto;
functions are read through ``moto_bridge.lambda_function`` as the bridge's own dataclass. A
function still ``Pending`` after CreateFunction is not invoked (409 ResourceConflictException);
during an update (``LastUpdateStatus: InProgress``) AWS still runs the previous code, the local
AWS the new one.
Invoke shapes follow https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import threading
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

from werkzeug.wsgi import get_input_stream

from .. import moto_bridge
from .runtime import FunctionSpec, Invocation, LambdaRuntime

log = logging.getLogger("localaws.lambda")

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# Invoke quotas: 6 MB synchronous, 256 KB asynchronous
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 256 * 1024
# A response may be 6 MB plus 100 bytes: "a" * 6 MiB (quoted, 6,291,458 bytes) is returned,
# 7 MiB is Function.ResponseSizeTooLarge (both recorded against AWS, 2025-11).
MAX_RESPONSE_PAYLOAD = 6 * 1024 * 1024 + 100


def _region_from(environ: dict[str, Any]) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", auth)
    return match.group(1) if match else "us-east-1"


class LambdaService:
    """Runs functions that moto stores: the Invoke API, and invocations from other services."""

    def __init__(self) -> None:
        self.runtime = LambdaRuntime()

    def matches(self, environ: dict[str, Any]) -> bool:
        return environ.get("REQUEST_METHOD") == "POST" and bool(
            INVOKE_PATH.match(environ.get("PATH_INFO", "")))

    def function(self, account: str, region: str, name_or_arn: str,
                 qualifier: str | None = None) -> moto_bridge.LambdaFunction | None:
        return moto_bridge.lambda_function(account, region, name_or_arn, qualifier)

    def run(self, function: moto_bridge.LambdaFunction, event: str, *,
            log_group: str = "", log_region: str = "") -> Invocation:
        """One synchronous invocation; unsupported runtimes fail the way a broken runtime does.
        ``log_group``/``log_region``: where its logs go, if not the function's own group and Region."""
        spec = FunctionSpec(function, log_group, log_region)
        request_id = str(uuid.uuid4())
        if not spec.runtime.startswith("python3"):
            error = {"errorMessage": f"The local AWS runs Python functions only, not {spec.runtime or 'images'}",
                     "errorType": "Runtime.InvalidRuntime"}
            return Invocation(request_id, json.dumps(error).encode(), error, "", 0.0)
        try:
            result = self.runtime.invoke(spec, event, request_id)
        except Exception as err:  # the environment could not start: a failed invocation, not a crash
            if not isinstance(err, RuntimeError):
                log.exception("execution environment for %s failed to start", spec.name)
            error = {"errorMessage": f"{type(err).__name__}: {err}" if not isinstance(err, RuntimeError)
                     else str(err), "errorType": "Runtime.Unknown"}
            return Invocation(request_id, json.dumps(error).encode(), error, "", 0.0)
        if len(result.payload) > MAX_RESPONSE_PAYLOAD:
            error = {"errorMessage": "Response payload size exceeded maximum allowed payload size "
                     f"({MAX_RESPONSE_PAYLOAD} bytes).", "errorType": "Function.ResponseSizeTooLarge"}
            result.payload, result.error = json.dumps(error).encode(), error
        return result

    # --- the Invoke API ---------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable, moto_app: Any) -> Any:
        match = INVOKE_PATH.match(environ["PATH_INFO"])
        name = unquote(match.group("name"))  # type: ignore[union-attr]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        qualifier = query.get("Qualifier", [None])[0]
        region = _region_from(environ)
        account = moto_bridge.ACCOUNT_ID
        function = self.function(account, region, name, qualifier)
        if function is None:
            return _not_found(start_response, account, region, name, qualifier)
        if function.state == "Pending":
            # "Lambda does not invoke a function during pending state" (recorded wording:
            # https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html).
            return _error(start_response, 409, "ResourceConflictException",
                          "The operation cannot be performed at this time. The function is "
                          "currently in the following state: Pending")
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        body = get_input_stream(environ).read(MAX_SYNC_PAYLOAD + 1)
        limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
        if len(body) > limit:
            return _error(start_response, 413, "RequestTooLargeException",
                          f"Request must be smaller than {limit} bytes for the InvokeFunction operation")
        try:
            json.loads(body or b"{}")
        except ValueError as err:
            return _error(start_response, 400, "InvalidRequestContentException",
                          f"Could not parse request body into json: Could not parse payload into "
                          f"json: {err}")
        event = (body or b"{}").decode("utf-8")
        if invocation_type == "DryRun":
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if invocation_type == "Event":
            threading.Thread(target=self.run, args=(function, event),
                             daemon=True).start()
            start_response("202 Accepted", [("Content-Length", "0"),
                                            ("x-amzn-RequestId", str(uuid.uuid4()))])
            return [b""]
        result = self.run(function, event)
        headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", result.request_id),
                   ("X-Amz-Executed-Version", result.executed_version),
                   ("Content-Length", str(len(result.payload)))]
        if result.failed:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            tail = result.logs.encode()[-4096:]
            headers.append(("X-Amz-Log-Result", base64.b64encode(tail).decode()))
        start_response("200 OK", headers)
        return [result.payload]


def _not_found(start_response: Callable, account: str, region: str, name: str,
               qualifier: str | None) -> list[bytes]:
    """Invoke's 404, as recorded against AWS (2025-11): the message names the full ARN with the
    qualifier (``$LATEST`` when none was given), in ``Message`` with ``Type: User``."""
    if name.startswith("arn:"):
        parts = name.split(":")
        base = ":".join(parts[:7])
        qualifier = qualifier or (parts[7] if len(parts) > 7 else None)
    else:
        function_name, _, derived = name.partition(":")
        base = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        qualifier = qualifier or derived or None
    return _error(start_response, 404, "ResourceNotFoundException",
                  f"Function not found: {base}:{qualifier or '$LATEST'}", key="Message")


def _error(start_response: Callable, status: int, error_type: str, message: str,
           key: str = "message") -> list[bytes]:
    body = json.dumps({"Type": "User", key: message}).encode()
    start_response(f"{status} Error", [("Content-Type", "application/json"),
                                       ("x-amzn-ErrorType", error_type),
                                       ("Content-Length", str(len(body)))])
    return [body]
