"""IAM policy evaluation for the local AWS: identity policies, resource policies, principals.

Follows AWS's evaluation logic for a request within one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any policy wins; otherwise an Allow in an identity policy *or* in the
resource policy (for a principal it names) allows; otherwise the request is implicitly denied.

Supported: Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal (AWS account,
root, user, role and assumed-role session ARNs, Service, CanonicalUser, "*"), Condition with the
String*, Arn*, Bool, Numeric*, Date*, Null and IpAddress operators, ``...IfExists``, and the
``ForAnyValue:``/``ForAllValues:`` set prefixes.

Limitations: no policy variables (``${aws:username}``), no permissions boundaries, session
policies, SCPs or cross-account rules.
"""
from __future__ import annotations

import functools
import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import eq, ge, gt, le, lt, ne
from typing import Any, Iterable

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM ARN, an AWS service, a canonical user, or nobody."""

    arn: str | None = None
    service: str | None = None
    canonical_user: str | None = None
    account: str | None = None

    @property
    def anonymous(self) -> bool:
        return not (self.arn or self.service or self.canonical_user)

    def role_arn(self) -> str | None:
        """For an assumed-role session, the ARN of the role behind it."""
        if self.arn and ":assumed-role/" in self.arn:
            prefix, rest = self.arn.split(":assumed-role/", 1)
            role_name = rest.split("/", 1)[0]
            return prefix.replace(":sts:", ":iam:") + ":role/" + role_name
        return None


ANONYMOUS = Principal()


@dataclass
class Decision:
    result: str
    reasons: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.result == ALLOW


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _wildcard(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    return _wildcard_regex(pattern, case_sensitive).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, case_sensitive: bool) -> re.Pattern:
    # IAM wildcards: '*' any run of characters, '?' one character; nothing else is special.
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(regex, flags | re.DOTALL)


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_wildcard(p, action, case_sensitive=False) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(_wildcard(p, resource, case_sensitive=True) for p in patterns)


def _principal_matches(spec: Any, who: Principal) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    for kind, values in spec.items():
        for value in _as_list(values):
            if kind == "AWS":
                # "Principal": {"AWS": "*"} is the same as "Principal": "*": everyone, anonymous
                # callers included (IAM JSON policy reference, "AWS JSON policy elements: Principal").
                if value == "*":
                    return True
                if who.arn is None:
                    continue
                # A bare account id or the account root names every principal of the account.
                account_root = re.fullmatch(r"(?:arn:aws:iam::)?(\d{12})(?::root)?", value)
                if account_root and who.account == account_root.group(1):
                    return True
                if value == who.arn or value == who.role_arn():
                    return True
            elif kind == "Service" and who.service and value == who.service:
                return True
            elif kind == "CanonicalUser" and who.canonical_user and value == who.canonical_user:
                return True
            elif kind == "Federated":
                continue
    return False


# --- conditions ----------------------------------------------------------------------------

# NumericLessThan, DateGreaterThanEquals...: the comparison after the type's name.
_COMPARISONS = {"Equals": eq, "NotEquals": ne, "LessThan": lt, "LessThanEquals": le,
                "GreaterThan": gt, "GreaterThanEquals": ge}


def _to_number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_date(value: str) -> datetime | None:
    try:
        if re.fullmatch(r"\d+(\.\d+)?", str(value)):
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        text = str(value).replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def _compare(op: str, actual: str, expected: str) -> bool:
    if op == "StringEquals":
        return actual == expected
    if op == "StringNotEquals":
        return actual != expected
    if op == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if op == "StringNotEqualsIgnoreCase":
        return actual.lower() != expected.lower()
    if op in ("StringLike", "ArnLike", "ArnEquals"):
        return _wildcard(expected, actual, case_sensitive=True)
    if op in ("StringNotLike", "ArnNotLike", "ArnNotEquals"):
        return not _wildcard(expected, actual, case_sensitive=True)
    if op == "Bool":
        return str(actual).lower() == str(expected).lower()
    if op.startswith(("Numeric", "Date")):
        kind, comparison = ("Numeric", _to_number) if op.startswith("Numeric") else ("Date", _to_date)
        a, e = comparison(actual), comparison(expected)
        compare = _COMPARISONS.get(op[len(kind):])
        return a is not None and e is not None and compare is not None and compare(a, e)
    if op in ("IpAddress", "NotIpAddress"):
        try:
            inside = ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
        except ValueError:
            return False
        return inside if op == "IpAddress" else not inside
    raise ValueError(f"condition operator {op!r} is not supported by the local AWS")


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike", "NumericNotEquals", "DateNotEquals", "NotIpAddress"}


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool:
    # Condition keys are case-insensitive; values in the context may be one value or a list.
    lowered = {k.lower(): v for k, v in context.items()}
    actual = lowered.get(key.lower())
    expected_values = [str(v) for v in _as_list(expected)]
    set_op = None
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        set_op, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    if operator == "Null":
        is_null = actual is None
        return any(str(is_null).lower() == v.lower() for v in expected_values)
    if actual is None:
        # A missing key fails a condition, except ...IfExists, ForAllValues (vacuously true)
        # and the negated operators ("if the key is not present, the condition is true").
        return if_exists or set_op == "ForAllValues" or operator in _NEGATED
    actual_values = [str(v) for v in _as_list(actual)]
    if set_op == "ForAllValues":
        return all(any(_compare(operator, a, e) for e in expected_values) for a in actual_values)
    if operator in _NEGATED:
        # A negated operator holds when the value matches none of the listed values.
        positive = operator.replace("Not", "", 1)
        return not any(
            _compare(positive, a, e) for a in actual_values for e in expected_values
        )
    return any(_compare(operator, a, e) for a in actual_values for e in expected_values)


def _conditions_hold(conditions: dict | None, context: dict[str, Any]) -> bool:
    for operator, pairs in (conditions or {}).items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


# --- statements ----------------------------------------------------------------------------

def _statements(document: str | dict | None) -> list[dict]:
    if not document:
        return []
    policy = json.loads(document) if isinstance(document, str) else document
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def _statement_applies(
    stmt: dict, action: str, resource: str | None, context: dict, who: Principal | None
) -> bool:
    if who is not None:  # a resource policy: the statement must name the principal
        if "Principal" in stmt and not _principal_matches(stmt["Principal"], who):
            return False
        if "NotPrincipal" in stmt and _principal_matches(stmt["NotPrincipal"], who):
            return False
        if "Principal" not in stmt and "NotPrincipal" not in stmt:
            return False
    if "Action" in stmt and not _action_matches(_as_list(stmt["Action"]), action):
        return False
    if "NotAction" in stmt and _action_matches(_as_list(stmt["NotAction"]), action):
        return False
    if resource is not None:
        if "Resource" in stmt and not _resource_matches(_as_list(stmt["Resource"]), resource):
            return False
        if "NotResource" in stmt and _resource_matches(_as_list(stmt["NotResource"]), resource):
            return False
    return _conditions_hold(stmt.get("Condition"), context)


def evaluate(
    action: str,
    resource: str | None,
    *,
    identity_policies: Iterable[str | dict] = (),
    resource_policy: str | dict | None = None,
    principal: Principal = ANONYMOUS,
    context: dict[str, Any] | None = None,
) -> Decision:
    """Decide one request: ``evaluate("s3:PutObject", "arn:aws:s3:::b/k", identity_policies=[doc])``."""
    context = dict(context or {})
    allowed_by: list[str] = []
    for index, doc in enumerate(identity_policies):
        for stmt in _statements(doc):
            if _statement_applies(stmt, action, resource, context, None):
                if stmt.get("Effect") == "Deny":
                    return Decision(EXPLICIT_DENY, [f"identity policy {index} denies {action}"])
                if stmt.get("Effect") == "Allow":
                    allowed_by.append(f"identity policy {index}")
    for stmt in _statements(resource_policy):
        if _statement_applies(stmt, action, resource, context, principal):
            if stmt.get("Effect") == "Deny":
                return Decision(EXPLICIT_DENY, [f"resource policy denies {action}"])
            if stmt.get("Effect") == "Allow":
                allowed_by.append("resource policy")
    if allowed_by:
        return Decision(ALLOW, allowed_by)
    return Decision(IMPLICIT_DENY, [f"no policy allows {action} on {resource}"])


def trust_allows(trust_policy: str | dict | None, service: str, action: str = "sts:AssumeRole") -> bool:
    """Whether a role's trust policy lets an AWS service (e.g. apigateway.amazonaws.com) assume it."""
    who = Principal(service=service)
    return evaluate(action, None, resource_policy=trust_policy, principal=who).allowed
