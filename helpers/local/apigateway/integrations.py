"""Integration handlers by type: ``invoke(dataplane, request) -> IntegrationResult``.

A type not in ``INTEGRATIONS`` fails loudly with a configuration error naming the type.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from .. import iam_eval, moto_bridge
from ..s3 import Caller
from .exceptions import configuration_error

APIGATEWAY_SERVICE = "apigateway.amazonaws.com"


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
    request_templates: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

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


_AWS_URI = re.compile(
    r"arn:aws:apigateway:(?P<region>[a-z0-9-]+):(?P<service>[A-Za-z0-9.-]+):"
    r"(?P<kind>path|action)/(?P<rest>.*)"
)


def _substitute(template: str, params: dict[str, str]) -> str:
    # Path override placeholders take mapped integration.request.path values, URL-encoded.
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise configuration_error(
                f"the path override uses {{{name}}} but no integration.request.path.{name} is mapped"
            )
        return quote(params[name], safe="")

    return re.sub(r"\{([^{}]+)\}", value, template)


def _assume_role(credentials: str | None, account: str) -> Caller:
    """The identity API Gateway calls the service with: the integration's execution role."""
    if not credentials:
        return Caller()
    role = moto_bridge.role_by_arn(account, credentials)
    if role is None:
        raise configuration_error(f"Invalid permissions: role {credentials} does not exist")
    if not iam_eval.trust_allows(moto_bridge.role_trust_policy(role), APIGATEWAY_SERVICE):
        raise configuration_error(
            f"API Gateway does not have permission to assume the provided role {credentials}"
        )
    session = f"arn:aws:sts::{account}:assumed-role/{role.name}/BackplaneAssumeRoleSession"
    return Caller(
        principal=iam_eval.Principal(arn=session, account=account),
        identity_policies=moto_bridge.role_identity_policies(role),
    )


def invoke_aws(dataplane: Any, request: IntegrationRequest) -> IntegrationResult:
    """AWS service integration; the local AWS runs S3 by path (``...:s3:path/{bucket}/{key}``)."""
    match = _AWS_URI.fullmatch(request.uri)
    if not match:
        raise configuration_error(f"Invalid integration URI {request.uri!r}")
    service = match.group("service").split(".")[-1]
    if service != "s3" or match.group("kind") != "path":
        raise configuration_error(
            f"the local AWS runs AWS integrations to S3 by path only, not {service} "
            f"{match.group('kind')}"
        )
    caller = _assume_role(request.credentials, request.account)
    path = "/" + _substitute(match.group("rest"), request.path_parameters)
    response = dataplane.s3.call(
        caller,
        request.http_method,
        path,
        query=request.query,
        headers=request.headers,
        body=request.body,
    )
    return IntegrationResult(response.status, response.headers, response.body,
                             selector=str(response.status))


def invoke_mock(dataplane: Any, request: IntegrationRequest) -> IntegrationResult:
    """MOCK: the request template's ``statusCode`` picks the integration response."""
    status = 200
    template_output = request.body if request.request_templates else b""
    if template_output:
        try:
            status = int(json.loads(template_output).get("statusCode", 200))
        except (ValueError, AttributeError):
            raise configuration_error("the MOCK request template must render JSON with a statusCode")
    return IntegrationResult(status, {}, b"", selector=str(status))


INTEGRATIONS: dict[str, Callable[[Any, IntegrationRequest], IntegrationResult]] = {
    "AWS": invoke_aws,
    "MOCK": invoke_mock,
}
