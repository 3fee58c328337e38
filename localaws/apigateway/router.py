"""Resource and method matching for a deployed REST API snapshot.

API Gateway picks the most specific resource: a literal path part beats ``{param}``, which beats
a greedy ``{proxy+}``; a method beats ``ANY`` on the same resource
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PARAM = re.compile(r"^\{([^{}+]+)\}$")
_GREEDY = re.compile(r"^\{([^{}+]+)\+\}$")


@dataclass
class Match:
    resource: dict[str, Any]
    method: dict[str, Any]
    path_parameters: dict[str, str]
    deployment_id: str | None = None


def _match_resource(template: list[str], segments: list[str]) -> tuple[tuple, dict[str, str]] | None:
    params: dict[str, str] = {}
    score: list[int] = []
    for index, part in enumerate(template):
        greedy = _GREEDY.match(part)
        if greedy:
            if index != len(template) - 1 or index >= len(segments):
                return None
            params[greedy.group(1)] = "/".join(segments[index:])
            score.append(0)
            return tuple(score), params
        if index >= len(segments):
            return None
        named = _PARAM.match(part)
        if named:
            if segments[index] == "":
                return None
            params[named.group(1)] = segments[index]
            score.append(1)
        elif part == segments[index]:
            score.append(2)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(score), params


def match(resources: list[dict[str, Any]], segments: list[str], http_method: str) -> Match | None:
    """Find the resource and method for decoded path ``segments`` (None: no route)."""
    best: tuple[tuple, dict, dict] | None = None
    for resource in resources:
        template = [p for p in resource["path"].split("/") if p]
        found = _match_resource(template, segments)
        if found is None:
            continue
        score, params = found
        if best is None or score > best[0]:
            best = (score, resource, params)
    if best is None:
        return None
    _, resource, params = best
    methods = resource.get("resourceMethods") or {}
    method = methods.get(http_method.upper()) or methods.get("ANY")
    if method is None:
        return None
    return Match(resource, method, params)
