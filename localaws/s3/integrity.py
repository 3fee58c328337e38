"""Upload integrity in front of moto's S3: checksums and the multipart rules moto misses.

Supported:
- ``x-amz-checksum-sha256|sha1|crc32`` on PutObject and UploadPart: verified over the body
  before anything is stored (``400 BadDigest`` otherwise); kept and returned by GetObject and
  HeadObject with ``x-amz-checksum-mode: ENABLED``, and by UploadPart and
  CompleteMultipartUpload; multipart objects get S3's composite checksum (``...-N``);
- multipart: ``NoSuchUpload`` for unknown upload ids on UploadPart and Complete (moto answers
  500), part numbers 1 to 10,000 (``InvalidArgument``), ``InvalidPartOrder``, part checksums
  in the Complete request checked against the uploaded parts (``InvalidPart``).
Checksum and multipart rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
and https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html.

Limitations: CRC32C and CRC64NVME values are kept but not verified; checksums sent as
aws-chunked trailers (boto3's default) are accepted unverified.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import tempfile
import threading
import zlib
from typing import Any, Callable
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

from werkzeug.wsgi import get_input_stream

from .. import moto_bridge
from ..bodies import CHUNK, KNOWN_MD5_KEY, Digests
from ..store import stores
from .errors import S3Response, error_response, refuse

CHECKSUM_HEADERS = ("sha256", "sha1", "crc32", "crc32c", "crc64nvme")
# Bodies up to 1 MiB stay in memory; larger ones go to a temporary file, which the stored
# object then keeps (so a 1 GiB upload costs disk, not memory).
SPOOL_MEMORY = 1024 * 1024
# GetObject request headers a HEAD would not answer the same way (see Integrity.get_object).
_GET_ONLY_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
                     "HTTP_IF_UNMODIFIED_SINCE", "HTTP_ORIGIN")
MAX_COMPLETE_DOCUMENT = 4 * 1024 * 1024  # 10,000 <Part> elements with checksums fit easily


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


_HASHERS: dict[str, Callable[[], Any]] = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "crc32": _Crc32}


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run moto's S3 app and keep its whole answer (only for small XML responses)."""
    captured: dict[str, Any] = {}

    def start(status: str, headers: list, exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, list(headers)
    chunks = app(environ, start)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


def _send(start_response: Callable, status: str, headers: list[tuple[str, str]], body: bytes,
          extra: dict[str, str] | None = None) -> list[bytes]:
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers += list((extra or {}).items()) + [("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def _claimed_checksums(environ: dict[str, Any]) -> dict[str, str]:
    return {alg: environ[f"HTTP_X_AMZ_CHECKSUM_{alg.upper()}"] for alg in CHECKSUM_HEADERS
            if environ.get(f"HTTP_X_AMZ_CHECKSUM_{alg.upper()}")}


def _spool(environ: dict[str, Any], algorithms: set[str]) -> dict[str, str]:
    """Read the body in 1 MiB chunks into a temporary file, hashing as it comes (MD5 for the
    ETag, unless the body came with it, and ``algorithms``), and hand moto the file instead of
    the bytes: memory stays bounded whatever the size. Returns base64 digests for ``algorithms``.

    If the client breaks off, ClientDisconnected propagates before moto is called: nothing is
    stored (S3 never shows a partial object)."""
    known_md5 = environ.pop(KNOWN_MD5_KEY, None)
    # "Compute a checksum with this algorithm" without the value (x-amz-sdk-checksum-algorithm
    # alone): S3 computes it. moto would compute it over the body it no longer gets, so the
    # value is computed here and passed on as if the client had sent it.
    asked = environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", "").lower()
    if asked and environ.get(f"HTTP_X_AMZ_CHECKSUM_{asked.upper()}"):
        asked = ""
    elif asked and asked not in _HASHERS:
        environ.pop("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM")  # not computed locally: no checksum
        asked = ""
    hashers = {alg: _HASHERS[alg]() for alg in algorithms | ({asked} if asked else set()) if alg in _HASHERS}
    if not known_md5:
        hashers["md5"] = hashlib.md5()
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    size = 0
    try:
        with Digests(hashers) as digests:
            stream = get_input_stream(environ)
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                spool.write(chunk)
                digests.update(chunk)
                size += len(chunk)
    except BaseException:
        spool.close()
        raise
    md5 = known_md5 or hashers.pop("md5").hexdigest()
    if asked:
        environ[f"HTTP_X_AMZ_CHECKSUM_{asked.upper()}"] = base64.b64encode(hashers[asked].digest()).decode()
    environ[moto_bridge.BODY_ENVIRON_KEY] = moto_bridge.FileBody(spool, size, md5)
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    return {alg: base64.b64encode(h.digest()).decode() for alg, h in hashers.items() if alg != "md5"}


def _unused_spool(environ: dict[str, Any]) -> None:
    """Close a spooled body moto did not adopt (the request was refused)."""
    body = environ.pop(moto_bridge.BODY_ENVIRON_KEY, None)
    if body is not None and not body.adopted:
        body.file.close()


def _verified_store(environ: dict[str, Any], app: Any, claimed: dict[str, str],
                    wanted: set[str]) -> tuple[str, list[tuple[str, str]], bytes, dict[str, str]]:
    """Spool the body, refuse it if a claimed checksum does not match (BadDigest, nothing
    stored), else let moto store it. Returns moto's answer (or the refusal) and the digests."""
    computed = _spool(environ, wanted)
    refused = _bad_checksum(claimed, computed)
    if refused is not None:
        _unused_spool(environ)
        return f"{refused.status} Error", list(refused.headers.items()), refused.body, computed
    try:
        status, headers, body = _call(app, environ)
    finally:
        _unused_spool(environ)
    return status, headers, body, computed


def _aws_chunked(environ: dict[str, Any]) -> bool:
    return "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", "") or \
        environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-")


def _bad_checksum(claimed: dict[str, str], computed: dict[str, str]) -> S3Response | None:
    for alg, value in claimed.items():
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            raw = b""
        expected_len = {"sha256": 32, "sha1": 20, "crc32": 4, "crc32c": 4, "crc64nvme": 8}[alg]
        if len(raw) != expected_len:
            return error_response(400, "InvalidRequest", f"Value for x-amz-checksum-{alg} header is invalid.")
        if alg in computed and computed[alg] != value:
            return error_response(400, "BadDigest",
                                  f"The {alg.upper()} you specified did not match the calculated checksum.")
    return None


def _no_such_upload(upload_id: str) -> S3Response:
    return error_response(404, "NoSuchUpload",
                          "The specified upload does not exist. The upload ID may be invalid, or the "
                          "upload may have been aborted or completed.", UploadId=upload_id)


class Integrity:
    """Wraps moto's S3 app for object writes, multipart uploads and checksum reads."""

    def __init__(self, upload_exists: Callable[[str, str], bool]) -> None:
        self._upload_exists = upload_exists
        self._completing: set[str] = set()
        self._completing_lock = threading.Condition()

    def serve(self, environ: dict[str, Any], start_response: Callable, app: Any,
              bucket: str, key: str | None, query: dict[str, str]) -> Any:
        method = environ["REQUEST_METHOD"]
        if not key:
            return app(environ, start_response)
        if method == "PUT" and "uploadId" in query and "partNumber" in query:
            if environ.get("HTTP_X_AMZ_COPY_SOURCE"):
                return app(environ, start_response)
            return self.upload_part(environ, start_response, app, bucket, query)
        if method == "POST" and "uploadId" in query:
            return self.complete(environ, start_response, app, bucket, key, query["uploadId"])
        if method == "POST" and "uploads" in query:
            return self.create(environ, start_response, app, bucket, key)
        if method == "DELETE" and "uploadId" in query:
            stores.s3.forget_upload(query["uploadId"])
            return app(environ, start_response)
        if method == "PUT" and not query and not environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            return self.put_object(environ, start_response, app, bucket, key)
        if method == "DELETE" and not query:
            stores.s3.forget_object(bucket, key)
            return app(environ, start_response)
        if method == "GET" and "uploadId" in query:
            return self.list_parts(environ, start_response, app, query["uploadId"])
        checksum_mode = environ.get("HTTP_X_AMZ_CHECKSUM_MODE", "").upper() == "ENABLED"
        if method == "GET" and not query and "HTTP_RANGE" not in environ:
            return self.get_object(environ, start_response, app, bucket, key, with_checksum=checksum_mode)
        if method in ("GET", "HEAD") and checksum_mode:
            return self._with_checksum(environ, start_response, app, bucket, key)
        return app(environ, start_response)

    # --- whole-object reads -----------------------------------------------------------------

    def get_object(self, environ: dict[str, Any], start_response: Callable, app: Any,
                   bucket: str, key: str, *, with_checksum: bool = False) -> Any:
        """GetObject streamed from the object's file: moto answers the same request as HEAD
        (headers, errors), then the body follows in chunks. Requests whose answer a HEAD does
        not decide the same way go to moto's GET: conditional ones (moto's GET also takes an
        unquoted ETag), CORS (only GET adds the headers) and archived objects (GET refuses
        them with InvalidObjectState until restored)."""
        def moto_get() -> Any:
            if with_checksum:
                return self._with_checksum(environ, start_response, app, bucket, key)
            return app(environ, start_response)

        if any(name in environ for name in _GET_ONLY_HEADERS):
            return moto_get()
        status, headers, _ = _call(app, {**environ, "REQUEST_METHOD": "HEAD"})
        found = {k.lower(): v for k, v in headers}
        chunks = None
        archived = found.get("x-amz-storage-class", "") in ("GLACIER", "DEEP_ARCHIVE") and \
            'ongoing-request="false"' not in found.get("x-amz-restore", "")
        if status.startswith("200") and found.get("content-length", "").isdigit() and not archived:
            chunks = moto_bridge.object_chunks(bucket, key, found.get("etag", ""), int(found["content-length"]))
        if chunks is None:
            return moto_get()
        if with_checksum:
            headers = self._checksum_headers(status, headers, bucket, key)
        start_response(status, headers)
        return chunks

    # --- single PUT -------------------------------------------------------------------------

    def put_object(self, environ: dict[str, Any], start_response: Callable, app: Any,
                   bucket: str, key: str) -> Any:
        claimed = _claimed_checksums(environ)
        if _aws_chunked(environ):  # SDK uploads with trailing checksums: moto decodes those
            status, headers, body = _call(app, environ)
            if status.startswith("200"):
                stores.s3.forget_object(bucket, key)
            return _send(start_response, status, headers, body)
        status, headers, body, _ = _verified_store(environ, app, claimed, set(claimed))
        extra = {}
        if status.startswith("200") and not claimed:
            stores.s3.forget_object(bucket, key)
        elif status.startswith("200"):
            alg, value = next(iter(claimed.items()))
            etag = next((v for k, v in headers if k.lower() == "etag"), "")
            stores.s3.set_checksum(bucket, key, alg, value, "FULL_OBJECT", etag)
            extra = {f"x-amz-checksum-{alg}": value, "x-amz-checksum-type": "FULL_OBJECT"}
        return _send(start_response, status, headers, body, extra)

    # --- multipart --------------------------------------------------------------------------

    def create(self, environ: dict[str, Any], start_response: Callable, app: Any, bucket: str, key: str) -> Any:
        algorithm = environ.get("HTTP_X_AMZ_CHECKSUM_ALGORITHM", "").lower() or None
        status, headers, body = _call(app, environ)
        extra = {}
        match = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
        if status.startswith("200") and match:
            stores.s3.start_upload(match.group(1).decode(), bucket, key, algorithm)
            if algorithm:
                extra = {"x-amz-checksum-algorithm": algorithm.upper()}
        return _send(start_response, status, headers, body, extra)

    def upload_part(self, environ: dict[str, Any], start_response: Callable, app: Any,
                    bucket: str, query: dict[str, str]) -> Any:
        upload_id = query["uploadId"]
        number = query.get("partNumber", "")
        if not number.isdigit() or not 1 <= int(number) <= 10000:
            return refuse(environ, start_response, error_response(
                400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
                ArgumentName="partNumber", ArgumentValue=number))
        if not self._upload_exists(bucket, upload_id):
            return refuse(environ, start_response, _no_such_upload(upload_id))
        claimed = _claimed_checksums(environ)
        upload = stores.s3.upload(upload_id)
        wanted = set(claimed) | ({upload["algorithm"]} if upload and upload["algorithm"] else set())
        if _aws_chunked(environ):
            return app(environ, start_response)
        status, headers, body, computed = _verified_store(environ, app, claimed, wanted)
        extra = {}
        if status.startswith("200") and upload and upload["algorithm"] in computed:
            value = computed[upload["algorithm"]]
            stores.s3.set_part_checksum(upload_id, int(number), value)
            extra = {f"x-amz-checksum-{upload['algorithm']}": value}
        return _send(start_response, status, headers, body, extra)

    def complete(self, environ: dict[str, Any], start_response: Callable, app: Any,
                 bucket: str, key: str, upload_id: str) -> Any:
        """One CompleteMultipartUpload per upload at a time: a second one for the same upload
        waits, then finds it completed (NoSuchUpload) instead of racing over its parts."""
        with self._completing_lock:
            self._completing_lock.wait_for(lambda: upload_id not in self._completing)
            self._completing.add(upload_id)
        try:
            return self._complete(environ, start_response, app, bucket, key, upload_id)
        finally:
            with self._completing_lock:
                self._completing.discard(upload_id)
                self._completing_lock.notify_all()

    def _complete(self, environ: dict[str, Any], start_response: Callable, app: Any,
                  bucket: str, key: str, upload_id: str) -> Any:
        if not self._upload_exists(bucket, upload_id):
            return refuse(environ, start_response, _no_such_upload(upload_id))
        document = get_input_stream(environ).read(MAX_COMPLETE_DOCUMENT)
        environ["wsgi.input"] = io.BytesIO(document)
        environ["CONTENT_LENGTH"] = str(len(document))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        try:
            parts = _parts(document)
        except (ElementTree.ParseError, ValueError):
            return _send(start_response, "400 Bad Request", [],
                         error_response(400, "MalformedXML", "The XML you provided was not well-formed "
                                        "or did not validate against our published schema.").body,
                         {"Content-Type": "application/xml"})
        numbers = [number for number, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            refused = error_response(400, "InvalidPartOrder", "The list of parts was not in ascending "
                                     "order. Parts must be ordered by part number.", UploadId=upload_id)
            return _send(start_response, "400 Bad Request", list(refused.headers.items()), refused.body)
        upload = stores.s3.upload(upload_id)
        algorithm = upload["algorithm"] if upload else None
        stored = {n: stores.s3.part_checksum(upload_id, n) for n in numbers}
        for number, claimed in parts:
            if claimed.get(algorithm or "") and stored.get(number) and claimed[algorithm] != stored[number]:
                refused = error_response(
                    400, "InvalidPart", "One or more of the specified parts could not be found. The part "
                    "might not have been uploaded, or the specified entity tag might not have matched "
                    "the part's entity tag.", UploadId=upload_id, PartNumber=str(number))
                return _send(start_response, "400 Bad Request", list(refused.headers.items()), refused.body)
        status, headers, body = _call(app, environ)
        if status.startswith("200"):
            stores.s3.forget_object(bucket, key)
            if algorithm and numbers and all(stored.get(n) for n in numbers):
                # S3's composite checksum: the algorithm over the parts' checksums, then "-N".
                combined = _HASHERS[algorithm]() if algorithm in _HASHERS else None
                if combined is not None:
                    for n in numbers:
                        combined.update(base64.b64decode(stored[n]))
                    value = base64.b64encode(combined.digest()).decode() + f"-{len(numbers)}"
                    etag = re.search(rb"<ETag>([^<]*)</ETag>", body)
                    stores.s3.set_checksum(bucket, key, algorithm, value, "COMPOSITE",
                                           unescape(etag.group(1).decode(), {"&quot;": '"'}) if etag else "")
                    tag = f"Checksum{algorithm.upper()}".encode()
                    body = body.replace(b"</CompleteMultipartUploadResult>",
                                        b"<" + tag + b">" + value.encode() + b"</" + tag + b">"
                                        b"<ChecksumType>COMPOSITE</ChecksumType>"
                                        b"</CompleteMultipartUploadResult>")
            stores.s3.forget_upload(upload_id)
        return _send(start_response, status, headers, body)

    def list_parts(self, environ: dict[str, Any], start_response: Callable, app: Any, upload_id: str) -> Any:
        """ListParts with each part's checksum (what a resuming client sends back on Complete)."""
        status, headers, body = _call(app, environ)
        upload = stores.s3.upload(upload_id)
        if status.startswith("200") and upload and upload["algorithm"]:
            tag = f"Checksum{upload['algorithm'].upper()}"

            def add(match: re.Match) -> bytes:
                value = stores.s3.part_checksum(upload_id, int(match.group(1)))
                extra = f"<{tag}>{value}</{tag}>".encode() if value else b""
                return match.group(0) + extra
            body = re.sub(rb"<PartNumber>(\d+)</PartNumber>", add, body)
        return _send(start_response, status, headers, body)

    # --- reads ------------------------------------------------------------------------------

    def _with_checksum(self, environ: dict[str, Any], start_response: Callable, app: Any,
                       bucket: str, key: str) -> Any:
        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            headers = self._checksum_headers(status, headers, bucket, key)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
        return app(environ, start)

    @staticmethod
    def _checksum_headers(status: str, headers: list, bucket: str, key: str) -> list:
        """The stored checksum in place of moto's, if it belongs to this version (its ETag)."""
        etag = next((v for k, v in headers if k.lower() == "etag"), "")
        checksum = stores.s3.checksum(bucket, key, etag) if etag else None
        if checksum and status.startswith(("200", "206")):
            alg, value, kind = checksum
            headers = [(k, v) for k, v in headers if not k.lower().startswith("x-amz-checksum-")]
            headers = headers + [(f"x-amz-checksum-{alg}", value), ("x-amz-checksum-type", kind)]
        return headers


def _parts(document: bytes) -> list[tuple[int, dict[str, str]]]:
    """(part number, {algorithm: checksum}) for each Part of a CompleteMultipartUpload body."""
    root = ElementTree.fromstring(document)
    parts = []
    for element in root.iter():
        if element.tag.split("}")[-1] != "Part":
            continue
        fields = {child.tag.split("}")[-1]: (child.text or "").strip() for child in element}
        number = int(fields.get("PartNumber", "0") or 0)  # not a number: MalformedXML
        checksums = {name[len("Checksum"):].lower(): value for name, value in fields.items()
                     if name.startswith("Checksum") and name != "ChecksumType"}
        parts.append((number, checksums))
    return parts
