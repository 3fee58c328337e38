"""Resource and method matching for a deployed REST API snapshot.

API Gateway picks the most specific resource: a literal path part beats ``{param}``, which beats
a greedy ``{proxy+}``; a method beats ``ANY`` on the same resource
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html).
A resource that matches the path but has neither the method nor ``ANY`` gives way to the next
most specific one that has it (an ``OPTIONS`` request to ``/test``, which has only ``POST``,
reaches a sibling ``/{proxy+}`` with ``OPTIONS``, as recorded against AWS).

Segments arrive as the client sent them (percent-encoding kept): path parameters keep it, as
API Gateway's REST APIs pass ``%2B`` on undecoded; literal parts compare decoded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

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
        elif part == unquote(segments[index]):
            score.append(2)
        else:
            return None
    if len(template) != len(segments):
        return None
    return tuple(score), params


def match(resources: list[dict[str, Any]], segments: list[str], http_method: str) -> Match | None:
    """Find the resource and method for path ``segments`` (None: no route)."""
    candidates: list[tuple[tuple, int, dict, dict]] = []
    for order, resource in enumerate(resources):
        template = [p for p in resource["path"].split("/") if p]
        found = _match_resource(template, segments)
        if found is not None:
            candidates.append((found[0], -order, resource, found[1]))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    for _, _, resource, params in candidates:
        methods = resource.get("resourceMethods") or {}
        method = methods.get(http_method.upper()) or methods.get("ANY")
        if method is not None:
            return Match(resource, method, params)
    return None
