"""Cross-origin resource sharing (CORS) for S3, evaluated as S3 evaluates it.

Supported (S3 User Guide, "Using cross-origin resource sharing (CORS)" and "Troubleshooting
CORS"; S3 API, "OPTIONS object"):
- preflight ``OPTIONS`` requests are answered here and never authenticated: a presigned URL's
  signature belongs to the request the preflight announces, not to the preflight;
- the bucket's CORS rules are read in order and the first rule that matches wins: the
  ``Origin`` against ``AllowedOrigins`` (case-sensitive, each pattern with at most one ``*``),
  ``Access-Control-Request-Method`` against ``AllowedMethods``, every name in
  ``Access-Control-Request-Headers`` against ``AllowedHeaders`` (case-insensitive, one ``*``);
- a successful preflight answers 200 with ``Access-Control-Allow-Origin`` (``*`` when the rule
  allows every origin, else the origin itself with ``Access-Control-Allow-Credentials: true``),
  ``-Allow-Methods`` (the rule's), ``-Allow-Headers`` (the requested names, lowercase),
  ``-Expose-Headers``, ``-Max-Age`` and ``Vary``;
- refusals: no ``Origin`` ``400 BadRequest``; no bucket ``403 AccessForbidden`` "CORSResponse:
  Bucket not found"; no CORS configuration ``403`` "CORSResponse: CORS is not enabled for this
  bucket."; no matching rule ``403`` "CORSResponse: This CORS request is not allowed. ..."
  (S3's wording, typo included), each with the ``Method`` and ``ResourceType`` S3 adds; a
  method S3 does not know ``400`` "Invalid Access-Control-Request-Method: ...";
- actual (non-preflight) requests with an ``Origin`` get the matching rule's headers (all but
  ``-Allow-Headers``) on every answer, errors included; without a match they get none. The
  method matched is ``Access-Control-Request-Method`` when the request carries one, else its own.

Every ``Access-Control-*`` header of an S3 answer comes from here: moto's S3 adds its own
(loosely matched) and they are dropped; moto's blanket flask-cors is switched off
(``moto_bridge.disable_blanket_cors``).

Limitations: path-style requests only (as the rest of the data plane); the rules are taken as
stored (PutBucketCors's validation is moto's).
"""
from __future__ import annotations

import uuid
from typing import Any, Callable
from urllib.parse import unquote

from .. import moto_bridge
from .auth import raw_path
from .errors import S3Response, error_response, refuse

# The methods a CORS rule may allow (S3 API, CORSRule: AllowedMethods).
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the "
               "evalution of Origin, request method / Access-Control-Request-Method or "
               "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")


def wildcard_match(pattern: str, text: str) -> bool:
    """S3's patterns: the text itself, or one ``*`` standing for any run of characters (none
    included); the parts around it do not overlap."""
    if "*" not in pattern:
        return pattern == text
    head, _, tail = pattern.partition("*")
    return len(text) >= len(head) + len(tail) and text.startswith(head) and text.endswith(tail)


def requested_headers(environ: dict[str, Any]) -> list[str]:
    raw = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
    return [name.strip().lower() for name in raw.split(",") if name.strip()]


def matching_rule(rules: list[dict], origin: str, method: str,
                  headers: list[str] = ()) -> dict | None:  # type: ignore[assignment]
    """The first rule allowing the origin, the method and every requested header."""
    for rule in rules:
        if not any(wildcard_match(pattern, origin) for pattern in rule["AllowedOrigins"]):
            continue
        if method not in rule["AllowedMethods"]:
            continue
        allowed = [pattern.lower() for pattern in rule["AllowedHeaders"]]
        if all(any(wildcard_match(pattern, name) for pattern in allowed) for name in headers):
            return rule
    return None


def rule_headers(rule: dict, origin: str, headers: list[str] | None) -> list[tuple[str, str]]:
    """The response headers of a matched rule, in S3's order; ``headers`` (the requested
    header names) only for a preflight."""
    every_origin = "*" in rule["AllowedOrigins"]
    answer = [("Access-Control-Allow-Origin", "*" if every_origin else origin),
              ("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"]))]
    if headers:
        answer.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if rule["ExposeHeaders"]:
        answer.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule["MaxAgeSeconds"] is not None:
        answer.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    if not every_origin:
        answer.append(("Access-Control-Allow-Credentials", "true"))
    answer.append(("Vary", VARY))
    return answer


def _bucket_and_key(environ: dict[str, Any]) -> tuple[str, str | None]:
    parts = raw_path(environ).lstrip("/").split("/", 1)
    key = unquote(parts[1]) if len(parts) > 1 and parts[1] else None
    return unquote(parts[0]), key


def _forbidden(message: str, method: str, resource_type: str) -> S3Response:
    return error_response(403, "AccessForbidden", message, Method=method, ResourceType=resource_type)


def preflight_refusal(environ: dict[str, Any]) -> tuple[S3Response | None, list[tuple[str, str]]]:
    """S3's answer to a preflight: (refusal, []) or (None, the headers of a 200)."""
    origin = environ.get("HTTP_ORIGIN", "")
    if not origin:
        return error_response(400, "BadRequest",
                              "Insufficient information. Origin request header needed."), []
    method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
    bucket, key = _bucket_and_key(environ)
    rules = moto_bridge.bucket_cors_rules(bucket) if bucket else None
    if rules is None:
        return _forbidden("CORSResponse: Bucket not found", method or "OPTIONS", "BUCKET"), []
    if not rules:
        return _forbidden("CORSResponse: CORS is not enabled for this bucket.",
                          method or "OPTIONS", "BUCKET"), []
    if method not in METHODS:
        return error_response(400, "BadRequest", "Invalid Access-Control-Request-Method: "
                              + ("null" if method is None else method)), []
    headers = requested_headers(environ)
    rule = matching_rule(rules, origin, method, headers)
    if rule is None:
        return _forbidden(NOT_ALLOWED, method, "OBJECT" if key else "BUCKET"), []
    return None, rule_headers(rule, origin, headers)


def preflight(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
    """Answer an ``OPTIONS`` request (S3 API, "OPTIONS object"): no authentication."""
    refusal, headers = preflight_refusal(environ)
    if refusal is not None:
        return refuse(environ, start_response, refusal)
    request_id = uuid.uuid4().hex[:16].upper()
    start_response("200 OK", [*headers, ("x-amz-request-id", request_id), ("x-amz-id-2", request_id),
                              ("Content-Length", "0")])
    return []


def actual_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The CORS headers S3 adds to an actual request's answer (none without a match)."""
    origin = environ.get("HTTP_ORIGIN", "")
    if not origin:
        return []
    bucket, _ = _bucket_and_key(environ)
    rules = moto_bridge.bucket_cors_rules(bucket) if bucket else None
    method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") or environ.get("REQUEST_METHOD", "")
    rule = matching_rule(rules or [], origin, method)
    return rule_headers(rule, origin, None) if rule is not None else []


def with_cors_headers(environ: dict[str, Any], start_response: Callable) -> Callable:
    """``start_response`` for an actual S3 request: whatever answers it (moto, the data plane, a
    refusal), its ``Access-Control-*`` headers are S3's, decided here when the answer starts."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        cors = actual_headers(environ)
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")
                and not (cors and k.lower() == "vary")]
        if exc_info is not None:
            return start_response(status, kept + cors, exc_info)
        return start_response(status, kept + cors)

    return start
