"""The cache-behaviour policies that decide CORS through CloudFront: which of the viewer's CORS
request headers reach the origin, and which CORS headers CloudFront adds to its answers.

Supported:
- the CORS request headers (``Origin``, ``Access-Control-Request-Method``,
  ``Access-Control-Request-Headers``) reach an S3 origin only when the behaviour includes them:
  in its origin request policy, its cache policy, or the legacy ``ForwardedValues`` headers
  (``*`` for all). Without them S3 sees no CORS request and answers a preflight ``400``
  "Insufficient information. Origin request header needed.", and an actual request without
  ``Access-Control-*`` headers ("If you want CloudFront to respect Amazon S3 cross-origin
  resource sharing settings, configure CloudFront to forward selected headers to Amazon S3",
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorS3Origin.html#RequestS3-cors;
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/header-caching.html#header-caching-web-cors);
- AWS's managed origin request policies by id (CORS-S3Origin, CORS-CustomOrigin, AllViewer,
  UserAgentRefererHeaders,
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html);
  the managed cache policies include no header (CachingDisabled, CachingOptimized);
- AWS's managed response headers policies SimpleCORS and CORS-With-Preflight
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html):
  to a CORS request (one with ``Origin``) CloudFront adds ``Access-Control-Allow-Origin``, and to
  a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) also
  ``-Allow-Methods`` and ``-Allow-Headers``; a header the origin already sent is kept (the
  policies' "origin override" is off). The status stays the origin's: a refused preflight
  stays refused (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html#understanding-response-headers-policies-cors).

Limitations: custom cache, origin request and response headers policies (their Create/Get/
Update/Delete APIs) are not implemented (moto has none): a behaviour naming another policy id
forwards no CORS request header and adds no CORS header. Only CORS headers are decided here;
other viewer headers reach the origin as before. No caching, so OPTIONS answers are never cached.
"""
from __future__ import annotations

from typing import Any

CORS_REQUEST_HEADERS = ("origin", "access-control-request-method", "access-control-request-headers")
ALL = frozenset(["*"])

# id -> (name, the lower-case viewer headers included in origin requests; ALL: every one)
MANAGED_ORIGIN_REQUEST_POLICIES: dict[str, tuple[str, frozenset[str]]] = {
    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf": (
        "Managed-CORS-S3Origin",
        frozenset(["origin", "access-control-request-headers", "access-control-request-method"])),
    "59781a5b-3903-41f3-afcb-af62929ccde1": ("Managed-CORS-CustomOrigin", frozenset(["origin"])),
    "216adef6-5c7f-47e4-b989-5492eafa07d3": ("Managed-AllViewer", ALL),
    "acba4595-bd28-49b8-b9fe-13317c0390fa": ("Managed-UserAgentRefererHeaders",
                                             frozenset(["user-agent", "referer"])),
}
CORS_S3_ORIGIN = "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf"

# id -> (name, Access-Control-Allow-Origin, -Allow-Methods and -Allow-Headers for preflights,
# or None when the policy adds only the origin header to simple CORS requests)
MANAGED_RESPONSE_HEADERS_POLICIES: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "60669652-455b-4ae9-85a4-c4c02393f86c": ("Managed-SimpleCORS", "*", None),
    "5cc3b908-e619-4b99-88e5-2cf7f45965bd": (
        "Managed-CORS-With-Preflight", "*", ("DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT", "*")),
}


def forwarded_cors_headers(behaviour: Any) -> frozenset[str]:
    """The CORS request headers the behaviour sends to its origin (lower-case names)."""
    included: set[str] = set()
    for policy_id in (behaviour.origin_request_policy_id, behaviour.cache_policy_id):
        managed = MANAGED_ORIGIN_REQUEST_POLICIES.get(policy_id or "")
        if managed is not None:
            included |= managed[1]
    included |= {name.lower() for name in behaviour.forwarded_headers}
    if "*" in included:
        return frozenset(CORS_REQUEST_HEADERS)
    return frozenset(name for name in CORS_REQUEST_HEADERS if name in included)


def add_cors_headers(behaviour: Any, method: str, viewer_headers: dict[str, str],
                     response_headers: dict[str, str]) -> dict[str, str]:
    """The answer's headers with what the behaviour's response headers policy adds."""
    managed = MANAGED_RESPONSE_HEADERS_POLICIES.get(behaviour.response_headers_policy_id or "")
    origin = viewer_headers.get("origin")
    if managed is None or not origin:
        return response_headers
    _, allow_origin, preflight = managed
    added = {"Access-Control-Allow-Origin": allow_origin}
    if preflight and method == "OPTIONS" and viewer_headers.get("access-control-request-method"):
        added["Access-Control-Allow-Methods"], added["Access-Control-Allow-Headers"] = preflight
    present = {name.lower() for name in response_headers}
    merged = dict(response_headers)
    for name, value in added.items():
        if name.lower() not in present:  # origin override off: the origin's header wins
            merged[name] = value
    return merged
