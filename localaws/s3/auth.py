"""S3 request authentication: who signed a request, and whether the signature holds.

Supported:
- presigned URLs, SigV4 (``X-Amz-Signature``): canonical request over the method, path, query
  and every signed header (Content-Type among them), expiry (``X-Amz-Date`` +
  ``X-Amz-Expires``, at most 7 days), session tokens, unsigned ``x-amz-*`` headers refused;
- presigned URLs, SigV2 (``AWSAccessKeyId``/``Expires``/``Signature``): the HMAC-SHA1 string to
  sign with Content-MD5, Content-Type, Expires, ``x-amz-*`` values and the resource;
- requests signed in the Authorization header (SDK calls): the access key names the principal;
- no signature at all: the anonymous principal.

Credentials known: ``test``/``test`` (the account's root), IAM users' access keys, and STS
session credentials (including a Lambda function's role session). Refusals are S3's XML errors
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

Limitations: Authorization-header signatures are not verified (any secret works, and an unknown
key acts as the root, as in moto); SigV4 payload hashes and aws-chunked bodies are not checked.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from calendar import timegm
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from .. import iam_eval, moto_bridge

ROOT_KEYS = {"test": "test"}
MAX_EXPIRES = 7 * 24 * 3600  # SigV4 presigned URLs live at most seven days
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class Caller:
    """Who an S3 request is made as, and the identity policies that speak for it."""

    principal: iam_eval.Principal = field(default_factory=lambda: iam_eval.ANONYMOUS)
    identity_policies: list = field(default_factory=list)
    how: str = "anonymous"
    # Request context keys for policy conditions (for example AWS:SourceArn for CloudFront OAC).
    context: dict = field(default_factory=dict)


class S3AuthError(Exception):
    """A refusal with S3's status, code, message and extra XML elements."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def same_secret(expected: str, provided: str) -> bool:
    """Constant-time comparison of a signature or token; any text a client sends (non-ASCII
    included) is simply a mismatch."""
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogateescape"))


def _root(account: str = moto_bridge.ACCOUNT_ID) -> Caller:
    return Caller(iam_eval.Principal(arn=f"arn:aws:iam::{account}:root", account=account),
                  [ALLOW_ALL], "root")


def lookup_key(access_key: str) -> tuple[str, Caller, dict | None]:
    """(secret, caller, credential record) for a known key; raises InvalidAccessKeyId."""
    if access_key in ROOT_KEYS:
        return ROOT_KEYS[access_key], _root(), None
    record = moto_bridge.find_credentials(access_key)
    if record is None or not record["active"]:
        raise S3AuthError(403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.",
                          AWSAccessKeyId=access_key)
    caller = Caller(iam_eval.Principal(arn=record["arn"], account=record["account"]),
                    list(record["policies"]), record["kind"])
    return record["secret"], caller, record


def check_token(record: dict | None, token: str | None, access_key: str) -> None:
    """A session key is known to S3 only together with its token."""
    if record is None or record["session_token"] is None:
        return
    if not token:
        raise S3AuthError(403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.",
                          AWSAccessKeyId=access_key)
    if not same_secret(token, record["session_token"]):
        raise S3AuthError(400, "InvalidToken", "The provided token is malformed or otherwise invalid.",
                          **{"Token-0": token})


def check_token_expiry(record: dict | None, token: str | None) -> None:
    """A URL outlives neither its own expiry nor the session credentials that signed it."""
    if record is None or record["expiration"] is None:
        return
    if time.time() > record["expiration"].timestamp():
        raise S3AuthError(400, "ExpiredToken", "The provided token has expired.", **{"Token-0": token or ""})


def _query_pairs(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers


def raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", ""))
    raw = raw.split("?", 1)[0]
    if "://" in raw:
        raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
    return raw


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def sigv4_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def presigned_v4(environ: dict[str, Any], pairs: list[tuple[str, str]]) -> Caller:
    params = dict(pairs)
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise S3AuthError(400, "AuthorizationQueryParametersError",
                          'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    missing = [p for p in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
                           "X-Amz-Signature", "X-Amz-Expires") if p not in params]
    if missing:
        raise S3AuthError(400, "AuthorizationQueryParametersError",
                          f"Query-string authentication version 4 requires the X-Amz-Algorithm, "
                          f"X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                          f"and X-Amz-Expires parameters.")
    scope = params["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise S3AuthError(400, "AuthorizationQueryParametersError",
                          "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                          'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    access_key, date, region, service, _ = scope
    try:
        expires = int(params["X-Amz-Expires"])
        signed_at = timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise S3AuthError(400, "AuthorizationQueryParametersError",
                          "X-Amz-Expires should be a number")
    if expires > MAX_EXPIRES:
        raise S3AuthError(400, "AuthorizationQueryParametersError",
                          "X-Amz-Expires must be less than a week (in seconds); that is, the given "
                          "X-Amz-Expires must be less than 604800 seconds")
    if expires < 0:
        raise S3AuthError(400, "AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative")
    secret, caller, record = lookup_key(access_key)
    check_token(record, params.get("X-Amz-Security-Token"), access_key)
    headers = _headers(environ)
    signed = params["X-Amz-SignedHeaders"].lower().split(";")
    # Every x-amz-* header the client sends must be signed (query parameters need not be).
    unsigned = sorted(h for h in headers if h.startswith("x-amz-") and h not in signed
                      and h != "x-amz-content-sha256")
    if unsigned:
        raise S3AuthError(403, "AccessDenied",
                          "There were headers present in the request which were not signed",
                          HeadersNotSigned=", ".join(unsigned))
    canonical_query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
    payload = (headers.get("x-amz-content-sha256", "") if "x-amz-content-sha256" in signed
               else params.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"))
    canonical_request = "\n".join([
        environ["REQUEST_METHOD"].upper(), quote(unquote(raw_path(environ)), safe="/~"),
        canonical_query, canonical_headers, ";".join(signed), payload])
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", params["X-Amz-Date"], f"{date}/{region}/{service}/aws4_request",
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    expected = hmac.new(sigv4_key(secret, date, region, service), string_to_sign.encode(),
                        hashlib.sha256).hexdigest()
    if not same_secret(expected, params["X-Amz-Signature"]):
        raise S3AuthError(
            403, "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=access_key, StringToSign=string_to_sign,
            SignatureProvided=params["X-Amz-Signature"], CanonicalRequest=canonical_request)
    now = time.time()
    if now > signed_at + expires:
        raise S3AuthError(403, "AccessDenied", "Request has expired",
                          **{"X-Amz-Expires": str(expires),
                             "Expires": _iso(signed_at + expires), "ServerTime": _iso(now)})
    check_token_expiry(record, params.get("X-Amz-Security-Token"))
    caller.how = "presigned-v4"
    return caller


def presigned_v2(environ: dict[str, Any], pairs: list[tuple[str, str]]) -> Caller:
    params = dict(pairs)
    if not all(params.get(p) for p in ("AWSAccessKeyId", "Signature", "Expires")):
        raise S3AuthError(403, "AccessDenied", "Query-string authentication requires the Signature, "
                          "Expires and AWSAccessKeyId parameters")
    access_key = params["AWSAccessKeyId"]
    try:
        expires = int(params.get("Expires", ""))
    except ValueError:
        raise S3AuthError(403, "AccessDenied", "Invalid date (should be seconds since epoch)",
                          Expires=params.get("Expires", ""))
    secret, caller, record = lookup_key(access_key)
    headers = _headers(environ)
    amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
    amz.update({k.lower(): v for k, v in pairs if k.lower().startswith("x-amz-")})
    check_token(record, amz.get("x-amz-security-token"), access_key)
    subresources = sorted((k, v) for k, v in pairs if k in _SUBRESOURCES)
    resource = raw_path(environ)
    if subresources:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    string_to_sign = "\n".join([
        environ["REQUEST_METHOD"].upper(), headers.get("content-md5", ""),
        headers.get("content-type", ""), str(expires)]) + "\n"
    string_to_sign += "".join(f"{k}:{amz[k].strip()}\n" for k in sorted(amz)) + resource
    expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(),
                                         hashlib.sha1).digest()).decode()
    if not same_secret(expected, params.get("Signature", "")):
        raise S3AuthError(
            403, "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=access_key, StringToSign=string_to_sign,
            SignatureProvided=params.get("Signature", ""))
    now = time.time()
    if now > expires:
        raise S3AuthError(403, "AccessDenied", "Request has expired",
                          Expires=_iso(expires), ServerTime=_iso(now))
    check_token_expiry(record, amz.get("x-amz-security-token"))
    caller.how = "presigned-v2"
    return caller


_SUBRESOURCES = {
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
    "policy", "requestPayment", "tagging", "torrent", "uploadId", "uploads", "versionId",
    "versioning", "versions", "website", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "restore", "select", "select-type", "object-lock",
}


def header_signed(environ: dict[str, Any]) -> Caller:
    """SDK requests: identify the principal from the access key (the signature is not checked)."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=([^/,\s]+)/", auth) or re.match(r"AWS ([^:]+):", auth)
    access_key = match.group(1) if match else ""
    if access_key not in ROOT_KEYS and moto_bridge.find_credentials(access_key) is None:
        return _root()  # lenient: moto accepts any unknown key for SDK calls, and so do we
    # A key the local AWS issued is checked: a deactivated one is refused, as on AWS.
    _, caller, _ = lookup_key(access_key)
    caller.how = "header"
    return caller


def authenticate(environ: dict[str, Any]) -> Caller:
    """The caller of an S3 request, or S3AuthError with S3's refusal."""
    pairs = _query_pairs(environ.get("QUERY_STRING", ""))
    names = {k for k, _ in pairs}
    if "X-Amz-Algorithm" in names or "X-Amz-Signature" in names:
        return presigned_v4(environ, pairs)
    if "AWSAccessKeyId" in names or "Signature" in names:
        return presigned_v2(environ, pairs)
    if environ.get("HTTP_AUTHORIZATION"):
        return header_signed(environ)
    return Caller()


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
