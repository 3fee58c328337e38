"""Integration handlers by type: ``invoke(context) -> IntegrationResult``.

Each handler gets an :class:`~.context.IntegrationContext` (the integration request and the S3
and Lambda services it may call) and returns a result; it never reaches back into the data plane
(dataplane.py imports this module, not the reverse). A type not in ``INTEGRATIONS`` fails loudly
with a configuration error naming the type.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any, Callable
from urllib.parse import quote

from .. import iam_eval, moto_bridge
from ..s3 import Caller
from .context import IntegrationContext, IntegrationRequest, IntegrationResult, media_type_matches
from .exceptions import GatewayError, configuration_error

APIGATEWAY_SERVICE = "apigateway.amazonaws.com"


_AWS_URI = re.compile(
    r"arn:aws:apigateway:(?P<region>[a-z0-9-]+):(?P<service>[A-Za-z0-9.-]+):"
    r"(?P<kind>path|action)/(?P<rest>.*)"
)


def _substitute(template: str, params: dict[str, str]) -> str:
    # Path override placeholders take mapped integration.request.path values, URL-encoded; the
    # method's path parameters arrive still percent-encoded as the client sent them, and those
    # escapes are kept (so %2F in a key reaches S3 as %2F, not %252F).
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise configuration_error(
                f"the path override uses {{{name}}} but no integration.request.path.{name} is mapped"
            )
        return quote(params[name], safe="%")

    return re.sub(r"\{([^{}]+)\}", value, template)


def _assume_role(credentials: str | None, account: str) -> Caller:
    """The identity API Gateway calls the service with: the integration's execution role."""
    if not credentials:
        return Caller()
    role = moto_bridge.role_by_arn(account, credentials)
    if role is None:
        raise configuration_error(f"Invalid permissions: role {credentials} does not exist")
    if not iam_eval.trust_allows(role.trust_policy, APIGATEWAY_SERVICE):
        raise configuration_error(
            f"API Gateway does not have permission to assume the provided role {credentials}"
        )
    session = f"arn:aws:sts::{account}:assumed-role/{role.name}/BackplaneAssumeRoleSession"
    return Caller(
        principal=iam_eval.Principal(arn=session, account=account),
        identity_policies=role.identity_policies,
    )


def invoke_aws(context: IntegrationContext) -> IntegrationResult:
    """AWS service integration; the local AWS runs S3 by path (``...:s3:path/{bucket}/{key}``)."""
    request = context.request
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
    response = context.s3.call(
        caller,
        request.http_method,
        path,
        query=request.query,
        headers=request.headers,
        body=request.body,
        body_md5=request.body_md5,
    )
    return IntegrationResult(response.status, response.headers, response.body,
                             selector=str(response.status))


def invoke_mock(context: IntegrationContext) -> IntegrationResult:
    """MOCK: the request template's ``statusCode`` picks the integration response."""
    request = context.request
    status = 200
    template_output = request.body if request.request_templates else b""
    if template_output:
        try:
            status = int(json.loads(template_output).get("statusCode", 200))
        except (ValueError, AttributeError):
            raise configuration_error("the MOCK request template must render JSON with a statusCode")
    return IntegrationResult(status, {}, b"", selector=str(status))


LAMBDA_URI = re.compile(
    r"arn:aws:apigateway:(?P<region>[a-z0-9-]+):lambda:path/2015-03-31/functions/"
    r"(?P<function>arn:aws:lambda:[^/]+)/invocations")
_PROXY_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


def may_invoke(function: moto_bridge.LambdaFunction, account: str, *, credentials: str | None,
               source_arn: str) -> bool:
    """API Gateway needs lambda:InvokeFunction: from the function's resource policy (what
    add_permission writes, with the execute-api SourceArn), or from the given role (an
    integration's or an authorizer's credentials)."""
    if credentials:
        caller = _assume_role(credentials, account)
        return iam_eval.evaluate("lambda:InvokeFunction", function.arn,
                                 identity_policies=caller.identity_policies).allowed
    unqualified = function.arn.rsplit(":", 1)[0] if function.arn.count(":") > 6 else function.arn
    policy = function.resource_policy
    context = {"AWS:SourceArn": source_arn, "AWS:SourceAccount": account}
    principal = iam_eval.Principal(service=APIGATEWAY_SERVICE)
    return any(iam_eval.evaluate("lambda:InvokeFunction", arn, resource_policy=policy,
                                 principal=principal, context=context).allowed
               for arn in {function.arn, unqualified})


def run_function(awslambda: Any, function: moto_bridge.LambdaFunction, event: str,
                 timeout: float) -> Any | None:
    """Invoke synchronously; the Invocation, or None when ``timeout`` seconds passed first (the
    function keeps running in its environment, as on AWS)."""
    outcome: dict[str, Any] = {}

    def invoke() -> None:
        try:
            outcome["result"] = awslambda.run(function, event)
        except BaseException as err:  # handed to the request thread: a fault, not a timeout
            outcome["fault"] = err

    worker = threading.Thread(target=invoke, daemon=True)
    worker.start()
    worker.join(timeout)
    if "fault" in outcome:
        raise outcome["fault"]
    return outcome.get("result")


def _proxy_response(payload: bytes, request: IntegrationRequest) -> IntegrationResult:
    """Map a Lambda proxy response to the HTTP response, or raise API Gateway's 502."""
    def malformed(why: str) -> GatewayError:
        return GatewayError("LAMBDA_FAILURE",
                            f"Execution failed due to configuration error: Malformed Lambda proxy response ({why})")
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        raise malformed("not JSON") from None
    if not isinstance(response, dict):
        raise malformed("not a JSON object")
    extra = set(response) - _PROXY_KEYS
    if extra:
        raise malformed(f"unexpected keys {sorted(extra)}")
    try:
        status = int(response.get("statusCode", 200))
    except (TypeError, ValueError):
        raise malformed("statusCode is not a number") from None
    body = response.get("body")
    if body is not None and not isinstance(body, str):
        raise malformed("body is not a string")
    merged: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    multi = response.get("multiValueHeaders") or {}
    if not isinstance(multi, dict) or any(not isinstance(v, list) for v in multi.values()):
        raise malformed("multiValueHeaders values must be lists")
    headers = response.get("headers") or {}
    if not isinstance(headers, dict):
        raise malformed("headers is not an object")
    for name, values in multi.items():
        names.setdefault(name.lower(), name)
        merged.setdefault(name.lower(), []).extend(_header_text(v) for v in values)
    for name, value in headers.items():
        names.setdefault(name.lower(), name)
        text = _header_text(value)
        if text not in merged.setdefault(name.lower(), []):
            merged[name.lower()].append(text)
    out = {names[k]: ", ".join(v) for k, v in merged.items()}
    if not any(k.lower() == "content-type" for k in out):
        out["Content-Type"] = "application/json"
    data = (body or "").encode("utf-8")
    if response.get("isBase64Encoded") and media_type_matches(
            (request.accept or "").split(",")[0], request.binary_media_types):
        try:
            data = base64.b64decode(body or "", validate=True)
        except ValueError:
            raise configuration_error("Unable to base64-decode the Lambda proxy response body") from None
    return IntegrationResult(status, out, data, selector=str(status), proxy=True)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def invoke_lambda_proxy(context: IntegrationContext) -> IntegrationResult:
    """AWS_PROXY to Lambda: the whole request becomes the event; the function's answer becomes
    the response (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)."""
    request = context.request
    match = LAMBDA_URI.fullmatch(request.uri)
    if not match:
        raise configuration_error(f"Invalid Lambda function URI {request.uri!r}")
    if request.http_method != "POST":
        # Lambda's Invoke API is a POST: another integrationHttpMethod fails every call with a
        # 500 (recorded against AWS with integrationHttpMethod GET).
        raise configuration_error(f"Lambda functions are invoked with POST, not {request.http_method}")
    arn = match.group("function")
    region = arn.split(":")[3]
    function = context.awslambda.function(request.account, region, arn)
    if function is None:
        raise configuration_error(f"Invalid permissions on Lambda function (function {arn} not found)")
    if not may_invoke(function, request.account, credentials=request.credentials,
                      source_arn=request.source_arn):
        raise configuration_error("Invalid permissions on Lambda function")
    event = json.dumps(request.event)
    # Lambda's synchronous invocation payload limit is 6 MB.
    if len(event.encode()) > 6 * 1024 * 1024:
        raise GatewayError("LAMBDA_REQUEST_TOO_LONG", "Lambda request payload over 6 MB")
    result = run_function(context.awslambda, function, event, request.timeout)
    if result is None:
        raise GatewayError("INTEGRATION_TIMEOUT",
                           f"Execution failed due to a timeout error after {request.timeout:.0f} s",
                           message="Endpoint request timed out")
    if result.failed:
        raise GatewayError("LAMBDA_FAILURE",
                           "Lambda execution failed with status 200 due to customer function error: "
                           f"{result.error.get('errorMessage', '')}. Lambda request id: {result.request_id}")
    return _proxy_response(result.payload, request)


INTEGRATIONS: dict[str, Callable[[IntegrationContext], IntegrationResult]] = {
    "AWS": invoke_aws,
    "MOCK": invoke_mock,
    "AWS_PROXY": invoke_lambda_proxy,
}
