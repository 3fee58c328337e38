"""S3 as the data plane reaches it: authorize the caller with IAM and bucket policies, then let
moto's S3 store the object.

Supported: the object and bucket actions an API Gateway S3 integration can call by path
(PutObject, GetObject, HeadObject, DeleteObject, ListBucket). The principal is whoever the
calling service acts as (an assumed role, or anonymous when an integration has no role).

Limitations: requests signed by end users (presigned URLs, SigV4 headers) are not yet checked
here; they go to moto unchanged.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from werkzeug.test import EnvironBuilder, run_wsgi_app

from . import iam_eval, moto_bridge


@dataclass
class S3Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    code: str | None = None


@dataclass
class Caller:
    """Who an in-process S3 request is made as, and the policies that speak for it."""

    principal: iam_eval.Principal = field(default_factory=lambda: iam_eval.ANONYMOUS)
    identity_policies: list[str] = field(default_factory=list)


def error_response(status: int, code: str, message: str, **extra: str) -> S3Response:
    """An S3-shaped XML error, as S3 sends them."""
    request_id = uuid.uuid4().hex[:16].upper()
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
    ).encode()
    return S3Response(
        status,
        {"Content-Type": "application/xml", "x-amz-request-id": request_id},
        body,
        code,
    )


def action_for(method: str, key: str | None, query: dict[str, str]) -> str:
    """The IAM action S3 authorizes for a REST call."""
    method = method.upper()
    if key:
        if "uploadId" in query or "uploads" in query:
            return "s3:AbortMultipartUpload" if method == "DELETE" else "s3:PutObject"
        return {
            "PUT": "s3:PutObject", "POST": "s3:PutObject", "GET": "s3:GetObject",
            "HEAD": "s3:GetObject", "DELETE": "s3:DeleteObject",
        }.get(method, "s3:PutObject")
    return {
        "PUT": "s3:CreateBucket", "GET": "s3:ListBucket", "HEAD": "s3:ListBucket",
        "DELETE": "s3:DeleteBucket",
    }.get(method, "s3:ListBucket")


def split_path(path: str) -> tuple[str, str | None]:
    """'/bucket/a%20b.txt' -> ('bucket', 'a b.txt')."""
    parts = path.lstrip("/").split("/", 1)
    bucket = unquote(parts[0])
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] else None
    return bucket, key


class S3Front:
    """Authorizes data-plane calls to S3, then runs them against moto's S3 in-process."""

    def __init__(self, moto_app: Any) -> None:
        self._moto_app = moto_app

    def authorize(self, caller: Caller, method: str, path: str, query: dict[str, str]) -> S3Response | None:
        bucket, key = split_path(path)
        action = action_for(method, key, query)
        resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")
        decision = iam_eval.evaluate(
            action,
            resource,
            identity_policies=caller.identity_policies,
            resource_policy=moto_bridge.bucket_policy(bucket),
            principal=caller.principal,
            context={"aws:SecureTransport": "true"},
        )
        if decision.allowed:
            return None
        who = caller.principal.arn or "anonymous"
        if decision.result == iam_eval.EXPLICIT_DENY:
            reason = f"with an explicit deny in a {'resource-based' if 'resource' in decision.reasons[0] else 'identity-based'} policy"
        else:
            reason = f"because no identity-based policy allows the {action} action"
        if caller.principal.anonymous:
            return error_response(403, "AccessDenied", "Access Denied")
        return error_response(
            403,
            "AccessDenied",
            f'User: {who} is not authorized to perform: {action} on resource: "{resource}" {reason}',
        )

    def call(
        self,
        caller: Caller,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> S3Response:
        """Make one S3 REST call as ``caller``; refusals come back as S3's XML errors."""
        query = dict(query or {})
        refused = self.authorize(caller, method, path, query)
        if refused is not None:
            return refused
        app = moto_bridge.s3_app(self._moto_app)
        builder = EnvironBuilder(
            path=quote(unquote(path), safe="/"),
            method=method.upper(),
            query_string=query,
            headers={"Host": "localhost", **(headers or {})},
            data=body,
        )
        environ = builder.get_environ()
        app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
        try:
            data = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        status_code = int(status.split(" ", 1)[0])
        return S3Response(status_code, dict(response_headers.items()), data)
