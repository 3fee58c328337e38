"""Lambda@Edge association rules, checked when a distribution is created or updated
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html):
a numbered version of a function in us-east-1 (not $LATEST, not an alias), no environment
variables, a supported runtime, viewer triggers within 5 s and 128 MB, a role that
edgelambda.amazonaws.com may assume, and IncludeBody only on request events.

The rules read the function and its role through the bridge's readers and refuse by raising
:class:`InvalidLambdaFunctionAssociation`; server.py hands :func:`check_associations` to
``moto_bridge.install``, which answers the refusal as CloudFront's error. Nothing here imports
moto.
"""
from __future__ import annotations

import re
from typing import Any

from .. import iam_eval, moto_bridge

EVENT_TYPES = ("viewer-request", "viewer-response", "origin-request", "origin-response")
# Python runtimes Lambda@Edge supports (the local runtime runs Python only).
RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
_ARN = re.compile(r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
                  r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[^:]+))?$")


class InvalidLambdaFunctionAssociation(moto_bridge.Rejected):
    """CloudFront's 400 InvalidLambdaFunctionAssociation, with the rule that was broken."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidLambdaFunctionAssociation", message)


_invalid = InvalidLambdaFunctionAssociation


def check_association(item: dict[str, Any]) -> None:
    """Raise InvalidLambdaFunctionAssociation for the first rule the association breaks."""
    arn = item.get("LambdaFunctionARN", "")
    event = item.get("EventType", "")
    if event not in EVENT_TYPES:
        raise _invalid(f"The event type {event!r} is not one of {', '.join(EVENT_TYPES)}.")
    match = _ARN.match(arn)
    if not match:
        raise _invalid(f"The function ARN is not valid. ARN: {arn}")
    if match.group("region") != "us-east-1":
        raise _invalid(f"The function must be in region 'us-east-1'. ARN: {arn}")
    qualifier = match.group("qualifier")
    if not qualifier or not qualifier.isdigit():
        raise _invalid("The function ARN must reference a specific function version. (The ARN must "
                       f"end with the version number.) ARN: {arn}")
    function = moto_bridge.lambda_function(match.group("account"), "us-east-1", match.group("name"), qualifier)
    if function is None:
        raise _invalid(f"The function does not exist or CloudFront cannot access it. ARN: {arn}")
    if function.environment:
        raise _invalid(f"The function cannot have environment variables. Function: {arn}")
    if function.runtime not in RUNTIMES:
        raise _invalid(f"The function has a runtime that is not supported by Lambda@Edge: "
                       f"{function.runtime} Function: {arn} Supported runtimes: [{', '.join(RUNTIMES)}]")
    # Quotas: viewer triggers 5 s and 128 MB, origin triggers 30 s and Lambda's memory limit.
    viewer = event.startswith("viewer-")
    max_timeout, max_memory = (5, 128) if viewer else (30, 10240)
    if function.timeout > max_timeout:
        raise _invalid("The function timeout is larger than the maximum allowed for functions that are "
                       f"triggered by a CloudFront event: {function.timeout:g} Max allowed: {max_timeout} "
                       f"Function: {arn}")
    if function.memory > max_memory:
        raise _invalid("The function memory size is larger than the maximum allowed size for functions "
                       f"that are triggered by a CloudFront event: {function.memory} Max allowed: "
                       f"{max_memory} Function: {arn}")
    if item.get("IncludeBody") and event not in ("viewer-request", "origin-request"):
        raise _invalid("The IncludeBody option can only be used with viewer-request or origin-request events.")
    role = moto_bridge.role_by_arn(match.group("account"), function.role)
    trust = role.trust_policy if role is not None else None
    if not (iam_eval.trust_allows(trust, "edgelambda.amazonaws.com")
            and iam_eval.trust_allows(trust, "lambda.amazonaws.com")):
        raise _invalid("The function execution role must be assumable with edgelambda.amazonaws.com as "
                       "well as lambda.amazonaws.com principals. Update the IAM role and try again. "
                       f"Role: {function.role}")


def check_associations(associations: list[tuple[str, dict[str, Any]]]) -> None:
    """Check each ``(path pattern, association)`` of a distribution config, and that a cache
    behaviour has one function per event type."""
    seen: set[tuple[str, str]] = set()
    for pattern, item in associations:
        check_association(item)
        key = (pattern, item.get("EventType", ""))
        if key in seen:
            raise _invalid(f"A cache behavior can have only one function per event type: {key[1]}.")
        seen.add(key)
