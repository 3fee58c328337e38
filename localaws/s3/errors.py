"""S3's error responses, in one module (as moto's ``s3/exceptions.py``): the XML body S3 sends
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and how a refusal is sent
while the client may still be sending its body."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import get_input_stream


@dataclass
class S3Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    code: str | None = None


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


def refuse(environ: dict[str, Any], start_response: Any, response: S3Response) -> list[bytes]:
    """Send an S3 error, after reading what the client still sends (so it gets the answer,
    not a connection reset)."""
    try:
        stream = get_input_stream(environ)
        while stream.read(1024 * 1024):
            pass
    except (ClientDisconnected, OSError):  # the body was read already, or the client left
        pass
    headers = {**response.headers, "Content-Length": str(len(response.body))}
    start_response(f"{response.status} Error", list(headers.items()))
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]
