"""Request bodies read in chunks with their digests computed alongside, in a second thread.

S3 answers every write with an ETag, the MD5 of the body, so MD5 is on the path of every upload.
Hashing while the next chunk arrives from the socket (hashlib releases the GIL on large
buffers) hides most of its cost. A body that API Gateway has read once keeps its MD5, so S3
does not hash the same bytes again.
"""
from __future__ import annotations

import hashlib
import queue
import threading
from typing import Any, Iterable

CHUNK = 1024 * 1024
QUEUE = 8  # chunks waiting for the hasher at most: memory stays bounded
# The WSGI environ key under which a body's MD5 (hex) travels when it is already known.
KNOWN_MD5_KEY = "s3wb.known_md5"


class Digests:
    """Feed chunks with ``update``; the hashers run in a second thread and are done when the
    ``with`` block ends (also on an exception)."""

    def __init__(self, hashers: dict[str, Any]) -> None:
        self.hashers = hashers
        self._chunks: queue.Queue = queue.Queue(maxsize=QUEUE)
        self._thread = threading.Thread(target=self._run, daemon=True, name="body-digests")

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            for hasher in self.hashers.values():
                hasher.update(chunk)

    def __enter__(self) -> "Digests":
        if self.hashers:
            self._thread.start()
        return self

    def update(self, chunk: bytes) -> None:
        if self.hashers:
            self._chunks.put(chunk)

    def __exit__(self, *exc: object) -> None:
        if self.hashers:
            self._chunks.put(None)
            self._thread.join()


def read_hashed(stream: Any, limit: int) -> tuple[bytes, str]:
    """Up to ``limit`` bytes of ``stream``, read in chunks, and their MD5 (hex)."""
    parts: list[bytes] = []
    with Digests({"md5": hashlib.md5()}) as digests:
        for chunk in _chunks(stream, limit):
            parts.append(chunk)
            digests.update(chunk)
    return b"".join(parts), digests.hashers["md5"].hexdigest()


def _chunks(stream: Any, limit: int) -> Iterable[bytes]:
    remaining = limit
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk
