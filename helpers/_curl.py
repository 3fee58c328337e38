"""The curl command equivalent to an upload, for running the same request outside Python.

    print(curl_command(api.upload_url("cat.jpg"), "cat.jpg",
                       headers={"x-api-key": key, "Content-Type": "image/jpeg"}))
    # curl --fail-with-body -X PUT --upload-file cat.jpg -H 'Content-Type: image/jpeg' \\
    #   -H "x-api-key: $API_KEY" 'http://127.0.0.1:4566/_aws/execute-api/.../upload/cat.jpg'
"""
from __future__ import annotations

import json
import os
import re
import shlex
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.utils import requote_uri

# Header names whose values are credentials: shown as shell variables, never as values.
SECRET_HEADERS = {"x-api-key": "API_KEY", "authorization": "AUTHORIZATION",
                  "x-amz-security-token": "AWS_SESSION_TOKEN", "cookie": "COOKIE"}
_SECRET_WORDS = re.compile(r"key|token|secret|auth|password|signature|cookie", re.I)
# Query parameters that make a URL a bearer credential (SigV4 and SigV2 presigned URLs).
_SIGNED_QUERY = {"x-amz-signature", "signature", "x-amz-security-token", "x-amz-credential"}


def _variable(header: str) -> str:
    return SECRET_HEADERS.get(header.lower()) or re.sub(r"[^A-Z0-9]+", "_", header.upper()).strip("_")


def is_presigned(url: str) -> bool:
    """True when the URL carries a signature in its query string (a presigned URL)."""
    return any(name.lower() in _SIGNED_QUERY for name in parse_qs(urlsplit(url).query))


def curl_command(url: str, path: str | os.PathLike | None = None, *, headers: dict[str, str] | None = None,
                 method: str = "PUT", json_body: Any = None, mask: bool = True,
                 url_variable: str = "UPLOAD_URL") -> str:
    """The curl command that makes the same request as ``upload_file(url, path, ...)``.

    With ``mask`` (the default) credentials never appear: headers such as ``x-api-key`` and
    ``Authorization`` become shell variables (``"x-api-key: $API_KEY"``), and a presigned URL
    becomes ``"$UPLOAD_URL"`` (set the variable from the grant before running the command).
    ``json_body`` sends a JSON body instead of a file (the multipart API's start call). A ``url``
    starting with ``$`` is a shell variable, printed as is (``"$PART_URL"``).

        curl_command(grant["url"], "clip.mp4", headers=grant["headers"])
        # curl --fail-with-body -X PUT --upload-file clip.mp4 -H 'Content-Type: video/mp4' "$UPLOAD_URL"
    """
    method = method.upper()
    parts = ["curl", "--fail-with-body", "-X", method]
    if path is not None:
        parts += ["--upload-file", shlex.quote(os.fspath(path))]
    elif json_body is not None:
        parts += ["-H", shlex.quote("Content-Type: application/json"),
                  "--data-binary", shlex.quote(json.dumps(json_body, separators=(",", ":")))]
    for name, value in (headers or {}).items():
        if mask and (name.lower() in SECRET_HEADERS or _SECRET_WORDS.search(name)):
            parts += ["-H", f'"{name}: ${_variable(name)}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if url.startswith("$"):  # already a shell variable: "$PART_URL"
        parts.append(f'"{url}"')
    elif mask and is_presigned(url):
        parts.append(f'"${url_variable}"')
    else:
        parts.append(shlex.quote(requote_uri(url)))
    return " ".join(parts)
