"""Upload integrity in front of moto's S3: checksums, Content-MD5, conditional writes and the
multipart rules moto misses. Every operation reaches this module already named (operation.py).

Supported:
- ``x-amz-checksum-crc32|crc32c|crc64nvme|sha1|sha256`` on PutObject and UploadPart, as headers
  or as aws-chunked trailers (the body is decoded here, chunk by chunk): verified over the body
  before anything is stored (``400 BadDigest`` otherwise); one checksum header at most, a known
  ``x-amz-sdk-checksum-algorithm`` that agrees with it, well-formed values (``InvalidRequest``);
- ``Content-MD5`` on PutObject and UploadPart: malformed ``400 InvalidDigest``, wrong
  ``400 BadDigest``, nothing stored;
- every object gets a checksum: the one sent, else S3's default CRC64NVME (``FULL_OBJECT``);
  returned by PutObject, UploadPart, CompleteMultipartUpload, and by GetObject/HeadObject with
  ``x-amz-checksum-mode: ENABLED`` (not for a range: it would not be the range's);
- multipart: checksum algorithm and type (``COMPOSITE``, ``FULL_OBJECT`` for the CRCs) chosen at
  CreateMultipartUpload, parts of another algorithm refused, the object's checksum computed at
  Complete (composite ``...-N``, or the CRCs combined) and checked against the one the client
  sends; ``NoSuchUpload``, part numbers 1 to 10,000, ``InvalidPartOrder``, ``InvalidPart`` and
  ``EntityTooSmall`` with S3's fields, at least one part, and a retried Complete of a completed
  upload answered again as the first time;
- conditional writes: ``If-None-Match: *`` and ``If-Match`` on PutObject and
  CompleteMultipartUpload (``412 PreconditionFailed``, ``404 NoSuchKey``);
- GetObject, whole or one byte range, streamed from the object's file.

References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html.

A body sent with a hex ``x-amz-content-sha256`` (what SigV4 signed as its payload hash) is
hashed and compared before anything is stored or changed: ``400 XAmzContentSHA256Mismatch``
with ``ClientComputedContentSHA256`` and ``S3ComputedContentSHA256`` otherwise (PutObject and
UploadPart as the body is spooled, other requests' small documents read whole).

Limitations: the chunk signatures of aws-chunked bodies are not verified; a concurrent conditional write gets 412, never
``409 ConditionalRequestConflict``; UploadPartCopy parts carry no checksum, so an upload that
has one gets no whole-object checksum.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import tempfile
import threading
import zlib
from typing import Any, Callable, Iterable
from xml.etree import ElementTree
from xml.sax.saxutils import escape, unescape

import anycrc
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import get_input_stream

from .. import moto_bridge
from ..bodies import CHUNK, KNOWN_MD5_KEY, Digests
from ..store import stores
from .errors import S3Response, error_response, refuse
from .operation import Operation

# Algorithm -> digest size in bytes (S3's checksum algorithms).
DIGEST_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}
CHECKSUM_HEADERS = tuple(DIGEST_SIZES)
CRCS = ("crc32", "crc32c", "crc64nvme")
DEFAULT_ALGORITHM = "crc64nvme"  # what S3 computes when the client sends no checksum (2025)
# Bodies up to 1 MiB stay in memory; larger ones go to a temporary file, which the stored
# object then keeps (so a 1 GiB upload costs disk, not memory).
SPOOL_MEMORY = 1024 * 1024
# GetObject request headers a HEAD would not answer the same way (see Integrity.get_object).
_GET_ONLY_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
                     "HTTP_IF_UNMODIFIED_SINCE", "HTTP_ORIGIN")
MAX_COMPLETE_DOCUMENT = 4 * 1024 * 1024  # 10,000 <Part> elements with checksums fit easily
MAX_CHUNK_LINE = 4096
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

_CRC_MODELS = {"crc32": anycrc.Model("CRC32"), "crc32c": anycrc.Model("CRC32-ISCSI"),
               "crc64nvme": anycrc.Model("CRC64-NVME")}


class _Crc:
    """hashlib-like CRC (update/digest) over one of S3's CRC algorithms."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm, self.value = algorithm, None

    def update(self, data: bytes) -> None:
        if self.algorithm == "crc32":
            self.value = zlib.crc32(data, self.value or 0)
        else:
            self.value = _CRC_MODELS[self.algorithm].calc(data, self.value)

    def digest(self) -> bytes:
        if self.value is None:
            self.value = _CRC_MODELS[self.algorithm].calc(b"")
        return self.value.to_bytes(DIGEST_SIZES[self.algorithm], "big")


def new_hasher(algorithm: str) -> Any:
    if algorithm in CRCS:
        return _Crc(algorithm)
    return {"sha1": hashlib.sha1, "sha256": hashlib.sha256}[algorithm]()


def checksum_of(algorithm: str, data: bytes) -> str:
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return base64.b64encode(hasher.digest()).decode()


def combine_crcs(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """The CRC of the concatenation, from each part's CRC (base64) and size (FULL_OBJECT)."""
    model = _CRC_MODELS[algorithm]
    total = None
    for value, size in parts:
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if total is None else model.combine(total, crc, size)
    return base64.b64encode((total or 0).to_bytes(DIGEST_SIZES[algorithm], "big")).decode()


# --- one way to answer ------------------------------------------------------------------------

def one_each(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each header once (the last value given wins, in the first one's place): moto and this
    module both set some (x-amz-checksum-*), and a client joins repeats as "v, v"."""
    order: list[str] = []
    values: dict[str, tuple[str, str]] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered not in values:
            order.append(lowered)
        values[lowered] = (name, value)
    return [values[name] for name in order]


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
    start_response(status, one_each(headers))
    return [body]


def _error(start_response: Callable, response: S3Response) -> list[bytes]:
    """An S3 error once the body has been read."""
    return _send(start_response, f"{response.status} Error", list(response.headers.items()), response.body)


# --- what the client claims -----------------------------------------------------------------

def _claimed_checksums(environ: dict[str, Any]) -> dict[str, str]:
    return {alg: environ[f"HTTP_X_AMZ_CHECKSUM_{alg.upper()}"] for alg in CHECKSUM_HEADERS
            if f"HTTP_X_AMZ_CHECKSUM_{alg.upper()}" in environ}


def _invalid_request(message: str) -> S3Response:
    return error_response(400, "InvalidRequest", message)


def _malformed(alg: str, value: str) -> bool:
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return True
    return len(raw) != DIGEST_SIZES[alg]


def _checksum_request_errors(environ: dict[str, Any], claimed: dict[str, str]) -> S3Response | None:
    """Refusals S3 makes from the checksum headers alone, before it reads the body."""
    if len(claimed) > 1:
        return _invalid_request("Expecting a single x-amz-checksum- header. Multiple checksum "
                                "Types are not allowed.")
    asked = environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM")
    if asked is not None and (asked.lower() not in DIGEST_SIZES or
                              (claimed and asked.lower() not in claimed)):
        return _invalid_request("Value for x-amz-sdk-checksum-algorithm header is invalid.")
    trailer = environ.get("HTTP_X_AMZ_TRAILER", "").strip().lower()
    if trailer and (not trailer.startswith("x-amz-checksum-") or
                    trailer[len("x-amz-checksum-"):] not in DIGEST_SIZES):
        return _invalid_request("The value specified in the x-amz-trailer header is not supported")
    for alg, value in claimed.items():
        if _malformed(alg, value):
            return _invalid_request(f"Value for x-amz-checksum-{alg} header is invalid.")
    return None


def _content_md5(environ: dict[str, Any]) -> tuple[bytes | None, S3Response | None]:
    """The Content-MD5 the client sent (16 bytes), or S3's InvalidDigest for a malformed one
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList)."""
    if "HTTP_CONTENT_MD5" not in environ:
        return None, None
    value = environ["HTTP_CONTENT_MD5"].strip()
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 16:
        return None, error_response(400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
                                    **{"Content-MD5": value})
    return raw, None


def _bad_digest(claimed: dict[str, str], computed: dict[str, str], md5_claimed: bytes | None,
                md5_hex: str) -> S3Response | None:
    if md5_claimed is not None and md5_claimed.hex() != md5_hex:
        return error_response(400, "BadDigest", "The Content-MD5 you specified did not match what "
                              "we received.", ExpectedDigest=md5_claimed.hex(), CalculatedDigest=
                              base64.b64encode(bytes.fromhex(md5_hex)).decode())
    for alg, value in claimed.items():
        if _malformed(alg, value):
            return _invalid_request(f"Value for x-amz-checksum-{alg} trailing header is invalid.")
        if alg in computed and computed[alg] != value:
            return error_response(400, "BadDigest",
                                  f"The {alg.upper()} you specified did not match the calculated checksum.")
    return None


# --- reading the body -----------------------------------------------------------------------

class _BadChunk(Exception):
    pass


def _aws_chunked(environ: dict[str, Any]) -> bool:
    return "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", "") or \
        environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-")


def _decoded(stream: Any, trailers: dict[str, str]) -> Iterable[bytes]:
    """The payload of an aws-chunked body, chunk by chunk; its trailing headers go to
    ``trailers`` (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html)."""
    while True:
        line = stream.readline(MAX_CHUNK_LINE)
        if not line:
            raise ClientDisconnected()
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadChunk() from None
        if size == 0:
            break
        remaining = size
        while remaining:
            data = stream.read(min(CHUNK, remaining))
            if not data:
                raise ClientDisconnected()
            remaining -= len(data)
            yield data
        if stream.read(2) != b"\r\n":
            raise _BadChunk()
    while line := stream.readline(MAX_CHUNK_LINE):
        if not line.strip():
            break
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


def _plain(stream: Any) -> Iterable[bytes]:
    return iter(lambda: stream.read(CHUNK), b"")


class Spooled:
    """A request body read into a temporary file, with its digests."""

    def __init__(self, computed: dict[str, str], md5: str, size: int, trailers: dict[str, str],
                 content_sha256: str | None = None) -> None:
        self.computed, self.md5, self.size, self.trailers = computed, md5, size, trailers
        self.content_sha256 = content_sha256  # hex, when the client announced one to compare
        self.algorithm = DEFAULT_ALGORITHM  # the object's checksum: the one sent, or S3's default


def _spool(environ: dict[str, Any], algorithms: set[str]) -> Spooled:
    """Read the body in 1 MiB chunks (decoding aws-chunked) into a temporary file, hashing as
    it comes (MD5 for the ETag, unless the body came with it, and ``algorithms``), and hand moto
    the file instead of the bytes: memory stays bounded whatever the size.

    If the client breaks off, ClientDisconnected propagates before moto is called: nothing is
    stored (S3 never shows a partial object)."""
    known_md5 = environ.pop(KNOWN_MD5_KEY, None)
    hashers: dict[str, Any] = {alg: new_hasher(alg) for alg in algorithms}
    if not known_md5:
        hashers["md5"] = hashlib.md5()
    chunked = _aws_chunked(environ)
    if not chunked and _HEX_SHA256.fullmatch(environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")):
        hashers["content-sha256"] = hashlib.sha256()  # the payload hash the signature covers
    trailers: dict[str, str] = {}
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    size = 0
    try:
        with Digests(hashers) as digests:
            stream = get_input_stream(environ)
            for chunk in (_decoded(stream, trailers) if chunked else _plain(stream)):
                spool.write(chunk)
                digests.update(chunk)
                size += len(chunk)
    except BaseException:
        spool.close()
        raise
    md5 = known_md5 or hashers.pop("md5").hexdigest()
    content_sha256 = hashers.pop("content-sha256").hexdigest() if "content-sha256" in hashers else None
    environ[moto_bridge.BODY_ENVIRON_KEY] = moto_bridge.FileBody(spool, size, md5)
    environ["wsgi.input"] = io.BytesIO(b"")
    environ["CONTENT_LENGTH"] = "0"
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False
    if chunked:  # moto gets the decoded body: nothing of the encoding must remain
        encodings = [e.strip() for e in environ.pop("HTTP_CONTENT_ENCODING", "").split(",")]
        if kept := ", ".join(e for e in encodings if e and e != "aws-chunked"):
            environ["HTTP_CONTENT_ENCODING"] = kept
        for name in ("HTTP_X_AMZ_DECODED_CONTENT_LENGTH", "HTTP_X_AMZ_TRAILER"):
            environ.pop(name, None)
        environ["HTTP_X_AMZ_CONTENT_SHA256"] = "UNSIGNED-PAYLOAD"
    computed = {alg: base64.b64encode(h.digest()).decode() for alg, h in hashers.items() if alg != "md5"}
    return Spooled(computed, md5, size, trailers, content_sha256)


def small_body_sha256_mismatch(environ: dict[str, Any], op: Operation) -> S3Response | None:
    """The same comparison for every request but the uploads (whose bodies ``_spool`` hashes as
    it stores them): their bodies are small XML or JSON documents (a bucket policy, CORS rules,
    CompleteMultipartUpload, DeleteObjects), read whole and put back for moto."""
    if op.writes_object_body or _aws_chunked(environ) or \
            not _HEX_SHA256.fullmatch(environ.get("HTTP_X_AMZ_CONTENT_SHA256", "")):
        return None
    body = get_input_stream(environ).read()
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    environ["wsgi.input_terminated"] = True
    return _content_sha256_mismatch(environ, Spooled({}, "", len(body), {}, hashlib.sha256(body).hexdigest()))


def _content_sha256_mismatch(environ: dict[str, Any], spooled: Spooled) -> S3Response | None:
    """A body whose SHA-256 is not the ``x-amz-content-sha256`` it was signed with: S3's
    ``400 XAmzContentSHA256Mismatch`` with both values (hex), and nothing stored
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html: "the
    x-amz-content-sha256 header value ... S3 computes the hash and compares")."""
    claimed = environ.get("HTTP_X_AMZ_CONTENT_SHA256", "").lower()
    if spooled.content_sha256 is None or spooled.content_sha256 == claimed:
        return None
    return error_response(400, "XAmzContentSHA256Mismatch",
                          "The provided 'x-amz-content-sha256' header does not match what was computed.",
                          ClientComputedContentSHA256=environ["HTTP_X_AMZ_CONTENT_SHA256"],
                          S3ComputedContentSHA256=spooled.content_sha256)


def _unused_spool(environ: dict[str, Any]) -> None:
    """Close a spooled body moto did not adopt (the request was refused)."""
    body = environ.pop(moto_bridge.BODY_ENVIRON_KEY, None)
    if body is not None and not body.adopted:
        body.file.close()


def _no_such_upload(upload_id: str) -> S3Response:
    return error_response(404, "NoSuchUpload",
                          "The specified upload does not exist. The upload ID may be invalid, or the "
                          "upload may have been aborted or completed.", UploadId=upload_id)


def _precondition_failed(condition: str) -> S3Response:
    return error_response(412, "PreconditionFailed", "At least one of the pre-conditions you "
                          "specified did not hold", Condition=condition)


def _write_conditions(environ: dict[str, Any], bucket: str, key: str) -> S3Response | None:
    """If-None-Match / If-Match on a write: decided against the object as it is now
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)."""
    none_match, match = environ.get("HTTP_IF_NONE_MATCH"), environ.get("HTTP_IF_MATCH")
    if none_match is None and match is None:
        return None
    current = moto_bridge.object_etag(bucket, key)
    if none_match is not None:
        if none_match.strip() != "*":
            return error_response(501, "NotImplemented", "A header you provided implies "
                                  "functionality that is not implemented", Header="If-None-Match")
        if current is not None:
            return _precondition_failed("If-None-Match")
    if match is not None:
        if current is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        wanted = {tag.strip().strip('"') for tag in match.split(",")}
        if "*" not in wanted and current.strip('"') not in wanted:
            return _precondition_failed("If-Match")
    return None


def _checksum_headers_for(alg: str, value: str, kind: str) -> dict[str, str]:
    return {f"x-amz-checksum-{alg}": value, "x-amz-checksum-type": kind}


class Integrity:
    """Wraps moto's S3 app for object writes, multipart uploads and checksum reads."""

    def __init__(self, upload_exists: Callable[[str, str], bool]) -> None:
        self._upload_exists = upload_exists
        self._completing: set[str] = set()
        self._completing_lock = threading.Condition()
        self._writing = threading.Lock()  # a conditional write's check and store are one step

    def serve(self, environ: dict[str, Any], start_response: Callable, app: Any, op: Operation) -> Any:
        """Answer one S3 request; every answer leaves through ``start`` (each header once, no
        whole-object checksum on a range)."""
        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            # The HTTP server sends Server and Date itself; moto's would make them twice.
            headers = [(k, v) for k, v in one_each(headers) if k.lower() not in ("server", "date")]
            if status.startswith("206"):
                headers = [(k, v) for k, v in headers if not k.lower().startswith("x-amz-checksum-")]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        environ["QUERY_STRING"] = op.query_string
        try:
            return self._serve(environ, start, app, op)
        except _BadChunk:
            return _error(start, error_response(400, "IncompleteBody", "The request body is not "
                                                "valid aws-chunked encoding."))

    def _serve(self, environ: dict[str, Any], start: Callable, app: Any, op: Operation) -> Any:
        bucket, key, query = op.bucket, op.key, op.query
        if op.name == "PutObject":
            return self.put_object(environ, start, app, bucket, key)
        if op.name == "UploadPart":
            return self.upload_part(environ, start, app, bucket, query)
        if op.name == "CompleteMultipartUpload":
            return self.complete(environ, start, app, bucket, key, query["uploadId"])
        if op.name == "CreateMultipartUpload":
            return self.create(environ, start, app, bucket, key)
        if op.name == "AbortMultipartUpload":
            stores.s3.forget_upload(query["uploadId"])
        if op.name == "DeleteObject" and not query:
            stores.s3.forget_object(bucket, key)
        if op.name == "ListParts":
            return self.list_parts(environ, start, app, query["uploadId"])
        checksum_mode = environ.get("HTTP_X_AMZ_CHECKSUM_MODE", "").upper() == "ENABLED"
        if op.name == "GetObject" and not query:
            return self.get_object(environ, start, app, bucket, key, with_checksum=checksum_mode)
        if op.name in ("GetObject", "HeadObject") and checksum_mode:
            return self._with_checksum(environ, start, app, bucket, key)
        return app(environ, start)

    # --- reads ------------------------------------------------------------------------------

    def get_object(self, environ: dict[str, Any], start_response: Callable, app: Any,
                   bucket: str, key: str, *, with_checksum: bool = False) -> Any:
        """GetObject streamed from the object's file, whole or one byte range: moto answers the
        same request as HEAD (headers, errors), then the body follows in chunks. Requests whose
        answer a HEAD does not decide the same way go to moto's GET: conditional ones (moto's
        GET also takes an unquoted ETag), CORS (only GET adds the headers), archived objects
        (GET refuses them with InvalidObjectState until restored) and ranges other than one
        satisfiable ``bytes=`` range (moto answers 416 or the whole object, as S3 does)."""
        def moto_get() -> Any:
            if with_checksum:
                return self._with_checksum(environ, start_response, app, bucket, key)
            return app(environ, start_response)

        if any(name in environ for name in _GET_ONLY_HEADERS):
            return moto_get()
        head = {k: v for k, v in environ.items() if k != "HTTP_RANGE"}
        status, headers, _ = _call(app, {**head, "REQUEST_METHOD": "HEAD"})
        found = {k.lower(): v for k, v in headers}
        archived = found.get("x-amz-storage-class", "") in ("GLACIER", "DEEP_ARCHIVE") and \
            'ongoing-request="false"' not in found.get("x-amz-restore", "")
        if not status.startswith("200") or not found.get("content-length", "").isdigit() or archived:
            return moto_get()
        size = int(found["content-length"])
        first, last = 0, size - 1
        if "HTTP_RANGE" in environ:
            wanted = _one_range(environ["HTTP_RANGE"], size)
            if wanted is None:
                return moto_get()
            first, last = wanted
        chunks = moto_bridge.object_chunks(bucket, key, found.get("etag", ""), size, first, last)
        if chunks is None:
            return moto_get()
        if "HTTP_RANGE" in environ:
            status = "206 Partial Content"
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "content-range")]
            headers += [("Content-Range", f"bytes {first}-{last}/{size}"),
                        ("Content-Length", str(last - first + 1))]
        elif with_checksum:
            headers = self._checksum_headers(status, headers, bucket, key)
        start_response(status, headers)
        return chunks

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
        if checksum and status.startswith("200"):
            alg, value, kind = checksum
            headers = [(k, v) for k, v in headers if not k.lower().startswith("x-amz-checksum-")]
            headers = headers + list(_checksum_headers_for(alg, value, kind).items())
        return headers

    # --- single PUT -------------------------------------------------------------------------

    def _read_verified(self, environ: dict[str, Any], start_response: Callable,
                       wanted: Callable[[dict[str, str]], set[str]],
                       ) -> tuple[Spooled | None, dict[str, str], Any]:
        """Check the request's checksum headers, spool the body and verify it. Returns
        (spooled, claimed checksums, None) or (None, {}, the refusal already sent)."""
        claimed = _claimed_checksums(environ)
        md5_claimed, refused = _content_md5(environ)
        refused = _checksum_request_errors(environ, claimed) or refused
        if refused is not None:
            return None, {}, refuse(environ, start_response, refused)
        asked = environ.get("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", "").lower()
        trailer = environ.get("HTTP_X_AMZ_TRAILER", "").strip().lower()[len("x-amz-checksum-"):]
        algorithms = wanted(claimed) | set(claimed) | {a for a in (asked, trailer) if a} | {DEFAULT_ALGORITHM}
        spooled = _spool(environ, algorithms)
        if trailer:
            if f"x-amz-checksum-{trailer}" in spooled.trailers:
                claimed[trailer] = spooled.trailers[f"x-amz-checksum-{trailer}"]
        spooled.algorithm = next(iter(claimed), None) or asked or trailer or DEFAULT_ALGORITHM
        refused = _content_sha256_mismatch(environ, spooled) or _bad_digest(
            claimed, spooled.computed, md5_claimed, spooled.md5)
        if refused is not None:
            _unused_spool(environ)
            return None, {}, _error(start_response, refused)
        # moto keeps the checksum it is given; it must not compute one over the body it no longer has.
        environ.pop("HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM", None)
        for alg in DIGEST_SIZES:
            environ.pop(f"HTTP_X_AMZ_CHECKSUM_{alg.upper()}", None)
        return spooled, claimed, None

    def put_object(self, environ: dict[str, Any], start_response: Callable, app: Any,
                   bucket: str, key: str) -> Any:
        spooled, claimed, refused = self._read_verified(environ, start_response, lambda c: set())
        if spooled is None:
            return refused
        alg = spooled.algorithm
        try:
            with self._writing:
                refusal = _write_conditions(environ, bucket, key)
                if refusal is not None:
                    return _error(start_response, refusal)
                status, headers, body = _call(app, environ)
                if status.startswith("200"):
                    etag = next((v for k, v in headers if k.lower() == "etag"), "")
                    stores.s3.set_checksum(bucket, key, alg, spooled.computed[alg], "FULL_OBJECT", etag)
        finally:
            _unused_spool(environ)
        extra = _checksum_headers_for(alg, spooled.computed[alg], "FULL_OBJECT") if status.startswith("200") else {}
        return _send(start_response, status, headers, body, extra)

    # --- multipart --------------------------------------------------------------------------

    def create(self, environ: dict[str, Any], start_response: Callable, app: Any, bucket: str, key: str) -> Any:
        """CreateMultipartUpload: the checksum algorithm and type of the object to be
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html)."""
        algorithm = environ.get("HTTP_X_AMZ_CHECKSUM_ALGORITHM", "").lower() or None
        kind = environ.get("HTTP_X_AMZ_CHECKSUM_TYPE", "").upper() or None
        refusal = None
        if algorithm and algorithm not in DIGEST_SIZES:
            refusal = _invalid_request("Checksum algorithm provided is unsupported. Please try again "
                                       "with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
        elif kind and kind not in ("COMPOSITE", "FULL_OBJECT"):
            refusal = _invalid_request("Value for x-amz-checksum-type header is invalid.")
        elif kind and not algorithm:
            refusal = _invalid_request("The x-amz-checksum-type header can only be used with the "
                                       "x-amz-checksum-algorithm header.")
        elif kind == "FULL_OBJECT" and algorithm not in CRCS or kind == "COMPOSITE" and algorithm == "crc64nvme":
            refusal = _invalid_request(f"The {kind} checksum type cannot be used with the "
                                       f"{algorithm} checksum algorithm.")
        if refusal is not None:
            return refuse(environ, start_response, refusal)
        if algorithm:
            kind = kind or ("FULL_OBJECT" if algorithm == "crc64nvme" else "COMPOSITE")
        for name in ("HTTP_X_AMZ_CHECKSUM_ALGORITHM", "HTTP_X_AMZ_CHECKSUM_TYPE"):
            environ.pop(name, None)  # the checksums are this module's; moto would repeat them
        status, headers, body = _call(app, environ)
        extra = {}
        match = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
        if status.startswith("200") and match:
            stores.s3.start_upload(match.group(1).decode(), bucket, key, algorithm, kind)
            if algorithm:
                extra = {"x-amz-checksum-algorithm": algorithm.upper(), "x-amz-checksum-type": kind}
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
        upload = stores.s3.upload(upload_id) or {}
        algorithm = upload.get("algorithm")
        sent = set(_claimed_checksums(environ)) | {
            environ.get("HTTP_X_AMZ_TRAILER", "").strip().lower()[len("x-amz-checksum-"):]} - {""}
        if algorithm and sent and sent != {algorithm}:
            return refuse(environ, start_response, _invalid_request(
                f"Checksum Type mismatch occurred, expected checksum Type: {algorithm}, "
                f"actual checksum Type: {sorted(sent)[0]}"))
        spooled, claimed, refused = self._read_verified(
            environ, start_response, lambda c: {algorithm} if algorithm else set())
        if spooled is None:
            return refused
        try:
            status, headers, body = _call(app, environ)
        finally:
            _unused_spool(environ)
        extra = {}
        if status.startswith("200"):
            stores.s3.set_part_checksum(upload_id, int(number), {**spooled.computed, "size": spooled.size})
            shown = algorithm or next(iter(claimed), None)
            if shown:
                extra = {f"x-amz-checksum-{shown}": spooled.computed[shown]}
        return _send(start_response, status, headers, body, extra)

    def complete(self, environ: dict[str, Any], start_response: Callable, app: Any,
                 bucket: str, key: str, upload_id: str) -> Any:
        """One CompleteMultipartUpload per upload at a time: a second one for the same upload
        waits, then finds it completed and gets the same answer (as a retry does)."""
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
            done = stores.s3.completed(upload_id, bucket, key)
            if done is not None:  # a retry: S3 answers 200 with the same result
                get_input_stream(environ).read(MAX_COMPLETE_DOCUMENT)
                return _send(start_response, "200 OK", done[0], done[1])
            return refuse(environ, start_response, _no_such_upload(upload_id))
        document = get_input_stream(environ).read(MAX_COMPLETE_DOCUMENT)
        environ["wsgi.input"] = io.BytesIO(document)
        environ["CONTENT_LENGTH"] = str(len(document))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        try:
            parts = _parts(document)
        except (ElementTree.ParseError, ValueError):
            return _error(start_response, error_response(
                400, "MalformedXML", "The XML you provided was not well-formed or did not validate "
                "against our published schema."))
        refusal = self._check_parts(bucket, upload_id, parts)
        if refusal is not None:
            return _error(start_response, refusal)
        upload = stores.s3.upload(upload_id) or {}
        algorithm, kind = upload.get("algorithm"), upload.get("type")
        numbers = [number for number, _, _ in parts]
        stored = {n: stores.s3.part_checksum(upload_id, n) for n in numbers}
        checksum = _object_checksum(algorithm or DEFAULT_ALGORITHM,
                                    kind or "FULL_OBJECT", [stored[n] for n in numbers])
        claimed = _claimed_checksums(environ)
        if claimed:
            alg, value = next(iter(claimed.items()))
            if checksum is None or alg != checksum[0] or value not in (checksum[1], checksum[1].split("-")[0]):
                return _error(start_response, error_response(
                    400, "BadDigest", f"The {alg.upper()} you specified did not match the calculated checksum."))
        for name in list(claimed):
            environ.pop(f"HTTP_X_AMZ_CHECKSUM_{name.upper()}", None)
        with self._writing:
            refusal = _write_conditions(environ, bucket, key)
            if refusal is not None:
                return _error(start_response, refusal)
            status, headers, body = _call(app, environ)
            etag_match = re.search(rb"<ETag>([^<]*)</ETag>", body)
            etag = unescape(etag_match.group(1).decode(), {"&quot;": '"'}) if etag_match else ""
            if status.startswith("200") and checksum is not None:
                stores.s3.set_checksum(bucket, key, *checksum, etag)
            elif status.startswith("200"):
                stores.s3.forget_object(bucket, key)
        if status.startswith("200"):
            if checksum is not None:
                alg, value, kind = checksum
                tag = f"Checksum{alg.upper()}"
                body = re.sub(rb"<Checksum[A-Z0-9]+>[^<]*</Checksum[A-Z0-9]+>", b"", body)
                body = body.replace(b"</CompleteMultipartUploadResult>",
                                    f"<{tag}>{escape(value)}</{tag}><ChecksumType>{kind}</ChecksumType>"
                                    "</CompleteMultipartUploadResult>".encode())
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            stores.s3.set_completed(upload_id, bucket, key, (headers, body))
            stores.s3.forget_upload(upload_id)
        return _send(start_response, status, headers, body)

    @staticmethod
    def _check_parts(bucket: str, upload_id: str,
                     parts: list[tuple[int, str, dict[str, str]]]) -> S3Response | None:
        """S3's checks of the part list, with the fields its errors carry
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html)."""
        if not parts:
            return _invalid_request("You must specify at least one part")
        numbers = [number for number, _, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            return error_response(400, "InvalidPartOrder", "The list of parts was not in ascending "
                                  "order. Parts must be ordered by part number.", UploadId=upload_id)
        uploaded = moto_bridge.multipart_parts(bucket, upload_id)
        upload = stores.s3.upload(upload_id) or {}
        for number, etag, checksums in parts:
            found = uploaded.get(number)
            stored = stores.s3.part_checksum(upload_id, number)
            algorithm = upload.get("algorithm")
            checksum_differs = bool(algorithm and checksums.get(algorithm) and stored.get(algorithm)
                                    and checksums[algorithm] != stored[algorithm])
            if found is None or found[0] != etag.strip().strip('"') or checksum_differs:
                return error_response(
                    # S3's wording as recorded against AWS (2026-02; two spaces after the first
                    # sentence), not the error table's paraphrase.
                    400, "InvalidPart", "One or more of the specified parts could not be found.  The "
                    "part may not have been uploaded, or the specified entity tag may not match the "
                    "part's entity tag.", UploadId=upload_id, PartNumber=str(number), ETag=etag)
        minimum = moto_bridge.part_min_size()
        for number, etag, _ in parts[:-1]:
            size = uploaded[number][1]
            if size < minimum:
                return error_response(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                    "size", ProposedSize=str(size), MinSizeAllowed=str(minimum),
                    PartNumber=str(number), ETag=uploaded[number][0])
        return None

    def list_parts(self, environ: dict[str, Any], start_response: Callable, app: Any, upload_id: str) -> Any:
        """ListParts with each part's checksum (what a resuming client sends back on Complete)."""
        status, headers, body = _call(app, environ)
        upload = stores.s3.upload(upload_id)
        if status.startswith("200") and upload and upload["algorithm"]:
            algorithm = upload["algorithm"]
            tag = f"Checksum{algorithm.upper()}"

            def add(match: re.Match) -> bytes:
                value = stores.s3.part_checksum(upload_id, int(match.group(1))).get(algorithm)
                extra = f"<{tag}>{value}</{tag}>".encode() if value else b""
                return match.group(0) + extra
            body = re.sub(rb"<PartNumber>(\d+)</PartNumber>", add, body)
        return _send(start_response, status, headers, body)


def _object_checksum(algorithm: str, kind: str, parts: list[dict[str, Any]]) -> tuple[str, str, str] | None:
    """(algorithm, value, type) of a multipart object from its parts' checksums: COMPOSITE is the
    algorithm over the parts' digests, then "-N"; FULL_OBJECT combines the parts' CRCs as if
    computed over the whole object (S3 User Guide, "Checking object integrity")."""
    if not parts or not all(algorithm in part for part in parts):
        return None
    if kind == "FULL_OBJECT":
        return algorithm, combine_crcs(algorithm, [(p[algorithm], p["size"]) for p in parts]), kind
    combined = new_hasher(algorithm)
    for part in parts:
        combined.update(base64.b64decode(part[algorithm]))
    return algorithm, base64.b64encode(combined.digest()).decode() + f"-{len(parts)}", kind


def _one_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single satisfiable ``bytes=`` range (RFC 9110 14.1.2), else None."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match or size == 0 or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        return None
    return start, end


def _parts(document: bytes) -> list[tuple[int, str, dict[str, str]]]:
    """(part number, ETag, {algorithm: checksum}) for each Part of a CompleteMultipartUpload body."""
    root = ElementTree.fromstring(document)
    parts = []
    for element in root.iter():
        if element.tag.split("}")[-1] != "Part":
            continue
        fields = {child.tag.split("}")[-1]: (child.text or "").strip() for child in element}
        number = int(fields.get("PartNumber", "0") or 0)  # not a number: MalformedXML
        checksums = {name[len("Checksum"):].lower(): value for name, value in fields.items()
                     if name.startswith("Checksum") and name != "ChecksumType"}
        parts.append((number, fields.get("ETag", ""), checksums))
    return parts
