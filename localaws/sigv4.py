"""AWS request signatures, computed the way the services compute them to check a client's.

One implementation for every service and both places a signature travels (the Authorization
header, and a presigned URL's query):

- Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
  the canonical request (method, canonical URI, canonical query, the signed headers, the
  payload hash), the string to sign over its SHA-256 with the date and credential scope, and
  the HMAC-SHA256 chain of the signing key. S3 signs the path as sent; every other service
  normalizes it (dot segments, doubled slashes) and URI-encodes it once more
  ("Each path segment must be URI-encoded twice ... except for Amazon S3").
- Signature Version 2 for S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html):
  HMAC-SHA1 over the method, Content-MD5, Content-Type, the date (or a presigned URL's
  Expires), the ``x-amz-*`` headers and the resource with its subresources.

Pure functions over text: who owns a key and what a mismatch is answered with belong to the
callers (``principals.py``, ``s3/auth.py``). Limitations: no SigV4a (ECDSA), no chunk
signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def same_secret(expected: str, provided: str) -> bool:
    """Constant-time comparison of a signature or token; any text a client sends (non-ASCII
    included) is simply a mismatch."""
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogateescape"))


# --- reading a request ------------------------------------------------------------------------

def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers, lower-cased names (WSGI keeps Content-Type/-Length apart)."""
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def raw_path(environ: dict[str, Any]) -> str:
    """The path as the client sent it, still percent-encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
    raw = raw.split("?", 1)[0]
    if "://" in raw:
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    return raw


def query_pairs(raw: str) -> list[tuple[str, str]]:
    """``a=1&b`` -> [("a", "1"), ("b", "")], decoded ('+' is a plus sign, as SigV4 reads it)."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


# --- Signature Version 4 ----------------------------------------------------------------------

@dataclass(frozen=True)
class HeaderAuth:
    """The parts of ``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


class Malformed(ValueError):
    """An Authorization header that is not a well-formed SigV4 (or SigV2) one."""


def parse_v4_header(value: str) -> HeaderAuth:
    if not value.startswith(ALGORITHM + " "):
        raise Malformed(f"Unsupported authorization type")
    fields = {}
    for part in value[len(ALGORITHM):].split(","):
        name, _, content = part.strip().partition("=")
        fields[name] = content
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not fields.get(n)]
    if missing:
        raise Malformed(f"Authorization header requires '{missing[0]}' parameter.")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise Malformed("Credential should be scoped to a valid region, and a service and "
                        "terminate with 'aws4_request'.")
    return HeaderAuth(scope[0], scope[1], scope[2], scope[3],
                      tuple(fields["SignedHeaders"].lower().split(";")), fields["Signature"])


def uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_uri(path: str, *, s3: bool) -> str:
    """The canonical URI of a path as sent (percent-encoded). S3: the path decoded and encoded
    once; other services: dot segments and empty segments removed, then encoded again."""
    if s3:
        return quote(unquote(path), safe="/~")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(pairs: Iterable[tuple[str, str]], *, leave_out: str | None = None) -> str:
    return "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in sorted(pairs) if k != leave_out)


def canonical_request(method: str, uri: str, query: str, headers: dict[str, str],
                      signed: Iterable[str], payload_hash: str) -> str:
    signed = list(signed)
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
    return "\n".join([method.upper(), uri, query, canonical_headers, ";".join(signed), payload_hash])


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature_v4(secret: str, date: str, region: str, service: str, to_sign: str) -> str:
    return hmac.new(signing_key(secret, date, region, service), to_sign.encode(),
                    hashlib.sha256).hexdigest()


# --- Signature Version 2 (S3) -----------------------------------------------------------------

_V2_HEADER = re.compile(r"AWS ([^:\s]+):(\S+)$")

# Query parameters that are part of the SigV2 resource.
SUBRESOURCES = frozenset({
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
    "policy", "requestPayment", "tagging", "torrent", "uploadId", "uploads", "versionId",
    "versioning", "versions", "website", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "restore", "select", "select-type", "object-lock",
})


def parse_v2_header(value: str) -> tuple[str, str]:
    """``AWS AKID:signature`` -> (access key, signature)."""
    match = _V2_HEADER.match(value.strip())
    if not match:
        raise Malformed("Authorization header is invalid -- one and only one ' ' (space) required")
    return match.group(1), match.group(2)


def string_to_sign_v2(method: str, headers: dict[str, str], amz: dict[str, str], date: str,
                      path: str, pairs: Iterable[tuple[str, str]]) -> str:
    """``date`` is the Date header (empty when x-amz-date is sent) or a presigned URL's Expires."""
    resource = path
    subresources = sorted((k, v) for k, v in pairs if k in SUBRESOURCES)
    if subresources:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    text = "\n".join([method.upper(), headers.get("content-md5", ""), headers.get("content-type", ""),
                      date]) + "\n"
    return text + "".join(f"{k}:{amz[k].strip()}\n" for k in sorted(amz)) + resource


def signature_v2(secret: str, to_sign: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
