"""Upload clients: stream a file from disk to a URL with a progress bar, and turn refusals into
``UploadRefused`` errors that keep AWS's status, code and message."""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from ._errors import ConfigurationError, UploadRefused, WorkbookError

CHUNK = 1024 * 1024


@dataclass
class UploadResult:
    status: int
    headers: dict[str, str]
    body: bytes
    bytes_sent: int
    seconds: float
    url: str = field(repr=False, default="")

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes_sent / 1e6 / self.seconds if self.seconds else 0.0


class _ProgressReader:
    """A file object that reports each read to a progress bar; requests streams it and sends
    Content-Length from ``len()``, so the body is never held in memory whole."""

    def __init__(self, path: str, bar: Any) -> None:
        self._file = open(path, "rb")
        self._size = os.fstat(self._file.fileno()).st_size
        self._bar = bar
        self.sent = 0

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(CHUNK if size is None or size < 0 else max(size, 64 * 1024))
        self.sent += len(chunk)
        if self._bar is not None:
            self._bar.update(len(chunk))
        return chunk

    def close(self) -> None:
        self._file.close()


def refusal(response: requests.Response) -> UploadRefused:
    """An ``UploadRefused`` from an error response: API Gateway JSON, S3 XML, or plain text."""
    body = response.content
    text = body.decode("utf-8", errors="replace")
    code = response.headers.get("x-amzn-ErrorType")
    message = text.strip()
    xml_code = re.search(r"<Code>([^<]+)</Code>", text)
    if xml_code:
        code = xml_code.group(1)
        xml_message = re.search(r"<Message>([^<]*)</Message>", text)
        message = xml_message.group(1) if xml_message else message
    else:
        try:
            data = json.loads(text)
            # API Gateway spells it "Message" in an authorizer's 403 (explicit deny).
            message = data.get("message", data.get("Message", message))
        except (ValueError, AttributeError):
            pass
    return UploadRefused(response.status_code, code.split(":")[0] if code else None, message, body=body)


def upload_file(url: str, path: str | os.PathLike, *, method: str = "PUT",
                headers: dict[str, str] | None = None, progress: bool = True,
                timeout: float = 600) -> UploadResult:
    """Send a file as the body of one HTTP request, streamed from disk with a progress bar.

        upload_file(api.upload_url("cat.jpg"), "cat.jpg", headers={"Content-Type": "image/jpeg"})

    Raises ``UploadRefused`` when the service answers with an error status.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigurationError(f"no file at {path!r}: choose an existing file to upload")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, unit_divisor=1024,
                   desc=os.path.basename(path)[:30])
    reader = _ProgressReader(path, bar)
    started = time.perf_counter()
    try:
        response = requests.request(method, url, data=reader, headers=headers or {}, timeout=timeout)
    except requests.ConnectionError as err:
        raise WorkbookError(
            f"could not reach {url.split('?')[0]}: {err.__class__.__name__}. If this is the local "
            "AWS, check it is running (`python -m localaws`) and re-run the cell."
        ) from err
    finally:
        reader.close()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    if response.status_code >= 400:
        raise refusal(response)
    return UploadResult(response.status_code, dict(response.headers), response.content,
                        reader.sent, seconds, url)


def request_upload_url(grant_url: str, *, content_type: str,
                       headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Ask an option-2 API for a presigned PUT: ``GET {grant_url}?contentType=...``.

    Returns the function's answer: ``url``, ``method``, ``key``, the ``headers`` the upload must
    send, and ``expiresIn`` seconds.
    """
    try:
        response = requests.get(grant_url, params={"contentType": content_type},
                                headers=headers or {}, timeout=60)
    except requests.ConnectionError as err:
        raise WorkbookError(f"could not reach {grant_url}: {err.__class__.__name__}") from err
    if response.status_code >= 400:
        raise refusal(response)
    return response.json()


def upload_presigned(grant: dict[str, Any], path: str | os.PathLike, *, progress: bool = True,
                     headers: dict[str, str] | None = None) -> UploadResult:
    """PUT a file to a presigned URL, with exactly the headers the URL was signed for."""
    return upload_file(grant["url"], path, method=grant.get("method", "PUT"),
                       headers={**grant.get("headers", {}), **(headers or {})}, progress=progress)


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_sample_file(path: str | os.PathLike, size: int, *, seed: int = 0) -> str:
    """Write ``size`` reproducible pseudo-random bytes (not valid UTF-8 text, like a photo).

    Written beside ``path`` and renamed into place, so that another notebook reading the same
    sample file meanwhile never sees it half written."""
    import tempfile

    rng = random.Random(seed)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".sample-", delete=False)
    try:
        with handle:
            remaining = size
            while remaining:
                step = min(CHUNK, remaining)
                handle.write(rng.randbytes(step))
                remaining -= step
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
    return path
