"""What passes between the API Gateway data plane and its integrations, and what both use.

LocalStack's execute-api style: the data plane builds one :class:`IntegrationContext` per
request (the integration request plus the services an integration may call) and hands it to
the handler for the integration type, which returns an :class:`IntegrationResult`. An
integration never sees the data plane; it reaches S3 and Lambda only through the context.

    dataplane.py --IntegrationContext--> integrations.py --> S3 front | Lambda service
                 <--IntegrationResult---
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


def media_type_matches(content_type: str | None, patterns: list[str]) -> bool:
    """Whether a Content-Type (or the first type of an Accept header) is one of the API's binary
    media types. As recorded against AWS: ``*/*`` matches everything, ``application/*`` matches
    ``application/x`` and ``application/*`` but not ``application``; a wildcard on the left
    (``*/test``) matches nothing; ``image/*`` or ``*/*`` sent by the client match only a binary
    media type spelled the same."""
    if not content_type:
        return False
    mime = content_type.split(",", 1)[0].split(";", 1)[0].strip().lower()
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern == "*/*":
            return True
        if pattern.startswith("*/"):
            continue
        if pattern == mime:
            return True
        if pattern.endswith("/*") and "/" in mime and mime.split("/", 1)[0] == pattern[:-2]:
            return True
    return False


@dataclass
class IntegrationRequest:
    type: str
    http_method: str
    uri: str
    credentials: str | None
    path_parameters: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    account: str
    body_md5: str | None = None
    request_templates: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # For proxy integrations: the event API Gateway builds from the method request.
    event: dict | None = None
    source_arn: str = ""
    region: str = "us-east-1"
    binary_media_types: list[str] = field(default_factory=list)
    accept: str | None = None
    timeout: float = 29.0

    def describe(self) -> str:
        return f"{self.type} {self.http_method} {self.uri} path={self.path_parameters}"


@dataclass
class IntegrationResult:
    status: int
    headers: dict[str, str]
    body: bytes
    # What selectionPattern is matched against: the status code for AWS, HTTP and MOCK.
    selector: str = ""
    # AWS_PROXY and HTTP_PROXY results go to the client as they are.
    proxy: bool = False


class S3Service(Protocol):
    """The S3 front, as an AWS integration calls it (``s3.S3Front.call``)."""

    def call(self, caller: Any, method: str, path: str, *, query: dict[str, str],
             headers: dict[str, str], body: Any, body_md5: str | None = None) -> Any: ...


class LambdaInvoker(Protocol):
    """The Lambda service, as a proxy integration calls it (``awslambda.LambdaService``)."""

    def function(self, account: str, region: str, name_or_arn: str,
                 qualifier: str | None = None) -> Any: ...

    def run(self, function: Any, event: str, *, log_group: str = "") -> Any: ...


@dataclass(frozen=True)
class IntegrationContext:
    """Everything an integration handler gets: the request to make and the services to make it
    with (never the gateway itself)."""

    request: IntegrationRequest
    s3: S3Service
    awslambda: LambdaInvoker
