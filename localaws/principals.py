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

Limitations: the request time is not checked against the clock (AWS refuses signatures more
than 15 minutes off); the chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies are
not verified, nor is an S3 body compared with the hex SHA-256 its ``x-amz-content-sha256``
announces (S3: ``XAmzContentSHA256Mismatch``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
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
                  body_sha256: Callable[[], str] | None = None) -> Caller:
    """The caller of a request signed in its Authorization header, its signature checked
    against the key's secret; AuthFailure otherwise.

    ``body_sha256`` gives the payload hash of every service but S3, which hash the body
    themselves; S3 SigV4 requests must send theirs in ``x-amz-content-sha256``."""
    value = environ.get("HTTP_AUTHORIZATION", "")
    headers = sigv4.request_headers(environ)
    try:
        if value.startswith("AWS ") and s3:
            return _verify_v2(environ, headers, *sigv4.parse_v2_header(value))
        auth = sigv4.parse_v4_header(value)
    except sigv4.Malformed as err:
        raise AuthFailure(MALFORMED, message=str(err))
    secret, caller, record = lookup_key(auth.access_key)
    token = headers.get("x-amz-security-token")
    check_token(record, token, auth.access_key)
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
               signature: str) -> Caller:
    secret, caller, record = lookup_key(access_key)
    amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
    token = amz.get("x-amz-security-token")
    check_token(record, token, access_key)
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
