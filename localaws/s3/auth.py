"""S3 request authentication: who signed a request, and whether the signature holds.

Supported:
- presigned URLs, SigV4 (``X-Amz-Signature``): canonical request over the method, path, query
  and every signed header (Content-Type among them), expiry (``X-Amz-Date`` +
  ``X-Amz-Expires``, at most 7 days), session tokens, unsigned ``x-amz-*`` headers refused;
- presigned URLs, SigV2 (``AWSAccessKeyId``/``Expires``/``Signature``): the HMAC-SHA1 string to
  sign with Content-MD5, Content-Type, Expires, ``x-amz-*`` values and the resource;
- requests signed in the Authorization header (SDK calls), SigV4 and SigV2: the signature is
  checked against the key's secret (``principals.verify_header``); the payload hash signed is
  ``x-amz-content-sha256`` as sent (a hex digest, ``UNSIGNED-PAYLOAD`` or the aws-chunked
  ``STREAMING-...`` values), which S3 requires with SigV4;
- no signature at all: the anonymous principal.

The signature arithmetic is ``sigv4.py``'s and the key lookup ``principals.py``'s, shared with
every other service; this module gives their failures S3's words
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

A header-signed request whose time (``X-Amz-Date``, else ``Date``) is more than 15 minutes
from the server's clock is ``403 RequestTimeTooSkewed`` with ``RequestTime``, ``ServerTime`` and
``MaxAllowedSkewMilliseconds``; one without a time ``403 AccessDenied``.

Limitations: the chunk signatures of aws-chunked bodies are not verified (their trailing
checksums are, in integrity.py).
"""
from __future__ import annotations

import time
from calendar import timegm
from typing import Any

from .. import principals, sigv4
from ..principals import AuthFailure, Caller

MAX_EXPIRES = 7 * 24 * 3600  # SigV4 presigned URLs live at most seven days
same_secret = sigv4.same_secret
raw_path = sigv4.raw_path


class S3AuthError(Exception):
    """A refusal with S3's status, code, message and extra XML elements."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.")


def s3_error(failure: AuthFailure) -> S3AuthError:
    """An authentication failure in S3's words."""
    kind = failure.kind
    if kind == principals.UNKNOWN_KEY:
        return S3AuthError(403, "InvalidAccessKeyId",
                           "The AWS Access Key Id you provided does not exist in our records.",
                           AWSAccessKeyId=failure.access_key)
    if kind == principals.BAD_SIGNATURE:
        return S3AuthError(403, "SignatureDoesNotMatch", MISMATCH,
                           AWSAccessKeyId=failure.access_key, **failure.details)
    if kind == principals.BAD_TOKEN:
        return S3AuthError(400, "InvalidToken", "The provided token is malformed or otherwise invalid.",
                           **{"Token-0": failure.details.get("token", "")})
    if kind == principals.EXPIRED_TOKEN:
        return S3AuthError(400, "ExpiredToken", "The provided token has expired.",
                           **{"Token-0": failure.details.get("token", "")})
    if kind == principals.MISSING_PAYLOAD_HASH:
        return S3AuthError(400, "InvalidRequest",
                           "Missing required header for this request: x-amz-content-sha256")
    if kind == principals.SKEWED:
        return S3AuthError(403, "RequestTimeTooSkewed",
                           "The difference between the request time and the current time is too large.",
                           **failure.details)
    if kind == principals.MISSING_DATE:
        return S3AuthError(403, "AccessDenied",
                           "AWS authentication requires a valid Date or x-amz-date header")
    if kind == principals.MALFORMED:
        return S3AuthError(400, "InvalidArgument", failure.message, ArgumentName="Authorization")
    raise ValueError(f"no S3 error for authentication failure {kind!r}")


def lookup_key(access_key: str) -> tuple[str, Caller, dict | None]:
    """(secret, caller, credential record) for a known key; raises InvalidAccessKeyId."""
    try:
        return principals.lookup_key(access_key)
    except AuthFailure as failure:
        raise s3_error(failure) from None


def check_token(record: dict | None, token: str | None, access_key: str) -> None:
    try:
        principals.check_token(record, token, access_key)
    except AuthFailure as failure:
        raise s3_error(failure) from None


def check_token_expiry(record: dict | None, token: str | None) -> None:
    try:
        principals.check_token_expiry(record, token)
    except AuthFailure as failure:
        raise s3_error(failure) from None




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
    headers = sigv4.request_headers(environ)
    signed = params["X-Amz-SignedHeaders"].lower().split(";")
    # Every x-amz-* header the client sends must be signed (query parameters need not be).
    unsigned = sorted(h for h in headers if h.startswith("x-amz-") and h not in signed
                      and h != "x-amz-content-sha256")
    if unsigned:
        raise S3AuthError(403, "AccessDenied",
                          "There were headers present in the request which were not signed",
                          HeadersNotSigned=", ".join(unsigned))
    payload = (headers.get("x-amz-content-sha256", "") if "x-amz-content-sha256" in signed
               else params.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"))
    canonical_request = sigv4.canonical_request(
        environ["REQUEST_METHOD"], sigv4.canonical_uri(raw_path(environ), s3=True),
        sigv4.canonical_query(pairs, leave_out="X-Amz-Signature"), headers, signed, payload)
    string_to_sign = sigv4.string_to_sign(params["X-Amz-Date"], f"{date}/{region}/{service}/aws4_request",
                                          canonical_request)
    expected = sigv4.signature_v4(secret, date, region, service, string_to_sign)
    if not same_secret(expected, params["X-Amz-Signature"]):
        raise S3AuthError(
            403, "SignatureDoesNotMatch", MISMATCH,
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
    headers = sigv4.request_headers(environ)
    amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
    amz.update({k.lower(): v for k, v in pairs if k.lower().startswith("x-amz-")})
    check_token(record, amz.get("x-amz-security-token"), access_key)
    string_to_sign = sigv4.string_to_sign_v2(environ["REQUEST_METHOD"], headers, amz, str(expires),
                                             raw_path(environ), pairs)
    expected = sigv4.signature_v2(secret, string_to_sign)
    if not same_secret(expected, params.get("Signature", "")):
        raise S3AuthError(
            403, "SignatureDoesNotMatch", MISMATCH,
            AWSAccessKeyId=access_key, StringToSign=string_to_sign,
            SignatureProvided=params.get("Signature", ""))
    now = time.time()
    if now > expires:
        raise S3AuthError(403, "AccessDenied", "Request has expired",
                          Expires=_iso(expires), ServerTime=_iso(now))
    check_token_expiry(record, amz.get("x-amz-security-token"))
    caller.how = "presigned-v2"
    return caller


def header_signed(environ: dict[str, Any]) -> Caller:
    """SDK requests: the Authorization header's signature (SigV4 or SigV2) checked against the
    secret of its access key."""
    try:
        return principals.verify_header(environ, s3=True)
    except AuthFailure as failure:
        raise s3_error(failure) from None


def authenticate(environ: dict[str, Any]) -> Caller:
    """The caller of an S3 request, or S3AuthError with S3's refusal."""
    pairs = sigv4.query_pairs(environ.get("QUERY_STRING", ""))
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
