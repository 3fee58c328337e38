"""Who signed a request: access keys, their secrets, and header signatures checked against them.

Every service authenticates the same way (S3 in ``s3/auth.py``, the control plane in
``control_auth.py``); only the answer to a failure differs, so failures are raised as
:class:`AuthFailure` with a kind each service translates into its own error.

Credentials known:
- ``test``/``test``: the account's root user (the documented local credentials);
- the access keys of IAM users created in the local AWS (deactivated keys are refused);
- STS session credentials (AssumeRole, a Lambda function's role session), with their token.

Supported: SigV4 in the Authorization header (every service; the payload hash is the SHA-256
of the body, or for S3 ``x-amz-content-sha256`` as sent, so ``UNSIGNED-PAYLOAD`` and the
aws-chunked ``STREAMING-*`` values sign as sent) and S3's SigV2 header
(``AWS AKID:signature``, which S3 still accepts for buckets created before June 2020).

The request time (``X-Amz-Date``, else ``Date``) must be within the service's window of the
server's clock (:data:`MAX_SKEW`), checked once the key is known and before the signature: a
request outside it is :data:`SKEWED` ("Signature expired" / "Signature not yet current"), one
without a readable time :data:`MISSING_DATE`.

An S3 body is compared with the hex SHA-256 its ``x-amz-content-sha256`` announces where it is
read (``s3/integrity.py``: ``XAmzContentSHA256Mismatch``).

Limitations: the chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies are not
verified.
"""
from __future__ import annotations

import time
from calendar import timegm
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable

from . import iam_eval, moto_bridge, sigv4

ROOT_KEYS = {"test": "test"}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# AuthFailure kinds
UNKNOWN_KEY = "unknown_key"          # no such key (or a session key without its token)
BAD_SIGNATURE = "bad_signature"      # the key exists; the signature is not the one its secret gives
BAD_TOKEN = "bad_token"              # a session key with another session's token
EXPIRED_TOKEN = "expired_token"      # the session has ended
MALFORMED = "malformed"              # an Authorization header that is not SigV4/SigV2
MISSING_PAYLOAD_HASH = "missing_payload_hash"  # S3 SigV4 without x-amz-content-sha256
SKEWED = "skewed"                    # the request time is too far from the server's clock
MISSING_DATE = "missing_date"        # neither X-Amz-Date nor Date holds a time

# How far a header-signed request's time may be from the server's clock, in minutes, as each
# service answers: 15 for S3 (MaxAllowedSkewMilliseconds 900000) and STS ("... - 15 min."),
# 5 for Lambda and CloudWatch Logs ("... - 5 min."), as their recorded answers say; IAM's is
# taken to be STS's, and the others get the five minutes the IAM User Guide gives "in most
# cases" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html).
MAX_SKEW = {"s3": 15, "sts": 15, "iam": 15, "lambda": 5, "logs": 5}
DEFAULT_SKEW = 5


@dataclass
class Caller:
    """Who a request is made as, and the identity policies that speak for it."""

    principal: iam_eval.Principal = field(default_factory=lambda: iam_eval.ANONYMOUS)
    identity_policies: list = field(default_factory=list)
    how: str = "anonymous"
    # Request context keys for policy conditions (for example AWS:SourceArn for CloudFront OAC).
    context: dict = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return bool(self.principal.arn) and self.principal.arn.endswith(":root")


class AuthFailure(Exception):
    """Authentication failed; ``kind`` says how, the services choose the words."""

    def __init__(self, kind: str, access_key: str = "", message: str = "", **details: str) -> None:
        super().__init__(message or kind)
        self.kind, self.access_key, self.message, self.details = kind, access_key, message, details


def root(account: str = moto_bridge.ACCOUNT_ID) -> Caller:
    return Caller(iam_eval.Principal(arn=f"arn:aws:iam::{account}:root", account=account),
                  [ALLOW_ALL], "root")


def lookup_key(access_key: str) -> tuple[str, Caller, dict | None]:
    """(secret, caller, credential record) for a known, active key; else AuthFailure."""
    if access_key in ROOT_KEYS:
        return ROOT_KEYS[access_key], root(), None
    record = moto_bridge.find_credentials(access_key)
    if record is None or not record["active"]:
        raise AuthFailure(UNKNOWN_KEY, access_key)
    caller = Caller(iam_eval.Principal(arn=record["arn"], account=record["account"]),
                    list(record["policies"]), record["kind"])
    return record["secret"], caller, record


def check_token(record: dict | None, token: str | None, access_key: str) -> None:
    """A session key is known only together with its token."""
    if record is None or record["session_token"] is None:
        return
    if not token:
        raise AuthFailure(UNKNOWN_KEY, access_key)
    if not sigv4.same_secret(token, record["session_token"]):
        raise AuthFailure(BAD_TOKEN, access_key, token=token)


def check_token_expiry(record: dict | None, token: str | None) -> None:
    """Session credentials stop working when their session ends."""
    if record is None or record["expiration"] is None:
        return
    if time.time() > record["expiration"].timestamp():
        raise AuthFailure(EXPIRED_TOKEN, token=token or "")


def request_time(headers: dict[str, str]) -> tuple[str, float]:
    """(the time as sent, seconds since the epoch) of X-Amz-Date, else Date; AuthFailure
    MISSING_DATE when neither holds a time (ISO 8601 basic, or an HTTP date), with the
    words the SigV4 services use (S3 has its own)."""
    sent = headers.get("x-amz-date") or headers.get("date") or ""
    try:
        return sent, float(timegm(time.strptime(sent.strip(), "%Y%m%dT%H%M%SZ")))
    except ValueError:
        pass
    try:
        return sent, parsedate_to_datetime(sent).timestamp()
    except (TypeError, ValueError, IndexError):
        raise AuthFailure(MISSING_DATE, message="Authorization header requires existence of either a "
                          "'X-Amz-Date' or a 'Date' header. Authorization="
                          + headers.get("authorization", "")) from None


def _stamp(seconds: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


def check_request_time(headers: dict[str, str], minutes: int, access_key: str = "") -> None:
    """AuthFailure SKEWED when the request's time is more than ``minutes`` from the server's
    clock; its message is the one the SigV4 services answer with, e.g. "Signature expired:
    20250101T000000Z is now earlier than 20250101T001500Z (20250101T003000Z - 15 min.)"."""
    sent, at = request_time(headers)
    now = time.time()
    window = minutes * 60
    if at < now - window:
        message = (f"Signature expired: {_stamp(at)} is now earlier than {_stamp(now - window)} "
                   f"({_stamp(now)} - {minutes} min.)")
    elif at > now + window:
        message = (f"Signature not yet current: {_stamp(at)} is still later than "
                   f"{_stamp(now + window)} ({_stamp(now)} + {minutes} min.)")
    else:
        return
    raise AuthFailure(SKEWED, access_key, message, RequestTime=sent,
                      ServerTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                      MaxAllowedSkewMilliseconds=str(window * 1000))


def header_access_key(environ: dict[str, Any]) -> str | None:
    """The access key an Authorization header names (None when it names none)."""
    value = environ.get("HTTP_AUTHORIZATION", "")
    try:
        if value.startswith(sigv4.ALGORITHM):
            return sigv4.parse_v4_header(value).access_key
        if value.startswith("AWS "):
            return sigv4.parse_v2_header(value)[0]
    except sigv4.Malformed:
        return None
    return None


def verify_header(environ: dict[str, Any], *, s3: bool,
                  body_sha256: Callable[[], str] | None = None, service: str | None = None) -> Caller:
    """The caller of a request signed in its Authorization header, its signature checked
    against the key's secret; AuthFailure otherwise.

    ``body_sha256`` gives the payload hash of every service but S3, which hash the body
    themselves; S3 SigV4 requests must send theirs in ``x-amz-content-sha256``. ``service``
    chooses the clock-skew window (:data:`MAX_SKEW`; S3's when ``s3``)."""
    minutes = MAX_SKEW["s3"] if s3 else MAX_SKEW.get(service or "", DEFAULT_SKEW)
    value = environ.get("HTTP_AUTHORIZATION", "")
    headers = sigv4.request_headers(environ)
    try:
        if value.startswith("AWS ") and s3:
            return _verify_v2(environ, headers, *sigv4.parse_v2_header(value), minutes=minutes)
        auth = sigv4.parse_v4_header(value)
    except sigv4.Malformed as err:
        raise AuthFailure(MALFORMED, message=str(err))
    secret, caller, record = lookup_key(auth.access_key)
    token = headers.get("x-amz-security-token")
    check_token(record, token, auth.access_key)
    check_request_time(headers, minutes, auth.access_key)
    if not s3:  # the service hashes the body itself
        payload = body_sha256() if body_sha256 else sigv4.EMPTY_SHA256
    elif "x-amz-content-sha256" in headers:
        payload = headers["x-amz-content-sha256"]
    else:
        raise AuthFailure(MISSING_PAYLOAD_HASH, auth.access_key)
    amz_date = headers.get("x-amz-date", headers.get("date", ""))
    pairs = sigv4.query_pairs(environ.get("QUERY_STRING", ""))
    canonical = sigv4.canonical_request(
        environ["REQUEST_METHOD"], sigv4.canonical_uri(sigv4.raw_path(environ), s3=s3),
        sigv4.canonical_query(pairs), headers, auth.signed_headers, payload)
    to_sign = sigv4.string_to_sign(amz_date, auth.scope, canonical)
    expected = sigv4.signature_v4(secret, auth.date, auth.region, auth.service, to_sign)
    if not sigv4.same_secret(expected, auth.signature):
        raise AuthFailure(BAD_SIGNATURE, auth.access_key, StringToSign=to_sign,
                          SignatureProvided=auth.signature, CanonicalRequest=canonical)
    check_token_expiry(record, token)
    caller.how = "header"
    return caller


def _verify_v2(environ: dict[str, Any], headers: dict[str, str], access_key: str,
               signature: str, *, minutes: int) -> Caller:
    secret, caller, record = lookup_key(access_key)
    amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
    token = amz.get("x-amz-security-token")
    check_token(record, token, access_key)
    check_request_time(headers, minutes, access_key)
    # "if you include the x-amz-date header, use the empty string for the Date"
    date = "" if "x-amz-date" in amz else headers.get("date", "")
    to_sign = sigv4.string_to_sign_v2(environ["REQUEST_METHOD"], headers, amz, date,
                                      sigv4.raw_path(environ),
                                      sigv4.query_pairs(environ.get("QUERY_STRING", "")))
    if not sigv4.same_secret(sigv4.signature_v2(secret, to_sign), signature):
        raise AuthFailure(BAD_SIGNATURE, access_key, StringToSign=to_sign, SignatureProvided=signature)
    check_token_expiry(record, token)
    caller.how = "header-v2"
    return caller
