"""Control-plane authentication and authorization: every service but S3, before moto answers.

A request signed in its Authorization header is checked as AWS checks it, in the service's own
error shape (S3 does the same in ``s3/auth.py`` and ``s3/front.py``):

1. the signature (``principals.verify_header``, SigV4 over the body's SHA-256): an unknown
   access key is ``InvalidClientTokenId`` (query and REST-XML protocols: IAM, STS,
   CloudFront) or ``UnrecognizedClientException`` (JSON protocols: Lambda, API Gateway,
   CloudWatch Logs), "The security token included in the request is invalid."; a signature
   the key's secret does not give is ``SignatureDoesNotMatch`` / ``InvalidSignatureException``,
   and so is a request time outside the service's window ("Signature expired: 20250101T000000Z
   is now earlier than ..."; 15 minutes for IAM and STS, 5 for Lambda and CloudWatch Logs);
2. the caller's identity policies (``iam_eval``), unless the caller is the account's root: each
   request is named as an IAM action on a resource ARN (the operation found in botocore's model
   of the service, its resource from the request's parameters, :data:`RESOURCES`), plus
   ``iam:PassRole`` where a role is handed to Lambda or API Gateway. A refusal is
   ``AccessDenied`` / ``AccessDeniedException`` "User: ARN is not authorized to perform: ACTION
   on resource: RESOURCE because no identity-based policy allows the ACTION action"
   (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

Error shapes: IAM/STS (query) and CloudFront (REST-XML) ``<ErrorResponse><Error><Type>Sender
</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>``
with 403 (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html); Lambda and
API Gateway (REST-JSON) 403 with ``{"message": ...}`` and ``x-amzn-ErrorType``
(https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html); CloudWatch Logs (JSON 1.1)
400 with ``{"__type": ..., "message": ...}`` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
lists the JSON protocol's authentication errors as 400).

Supported: the resources of the actions the workbook calls (Lambda functions, IAM roles, users
and policies, CloudFront distributions, OAIs and OACs, API Gateway paths, log groups), ``*`` for
the others; ``sts:GetCallerIdentity`` is always allowed, as on AWS.

Also checked inside an action, as AWS does: ``lambda:GetFunction`` and
``lambda:EnableReplication*`` on each Lambda@Edge function version a distribution config
associates.

An unsigned request to an API the local AWS serves itself (Lambda's Invoke, CloudFront's origin
access identities) is ``MissingAuthenticationToken(Exception)``.

Limitations: other unsigned control-plane requests are left to moto (which takes them for S3
requests); presigned control-plane URLs are not checked; no resource
policies (a Lambda function's, a role's trust policy for ``sts:AssumeRole``), permissions
boundaries, SCPs or condition keys beyond ``iam:PassedToService``; ``lambda:DisableReplication*``
when an update drops an association, and ``iam:CreateServiceLinkedRole`` when CloudFront would
create Lambda@Edge's service-linked role, are not checked.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from werkzeug.wsgi import get_input_stream

from . import iam_eval, moto_bridge, principals, sigv4
from .principals import AuthFailure, Caller

log = logging.getLogger("localaws")

# Each service's protocol (botocore's metadata), which decides the shape of its errors.
PROTOCOLS = {"iam": "query", "sts": "query", "cloudfront": "rest-xml", "lambda": "rest-json",
             "apigateway": "rest-json", "logs": "json"}
_XMLNS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
          "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
          "cloudfront": "http://cloudfront.amazonaws.com/doc/2020-05-31/"}

INVALID_TOKEN = "The security token included in the request is invalid."
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.")

# (query/rest-xml code, JSON code) for each authentication failure
_CODES = {
    principals.UNKNOWN_KEY: ("InvalidClientTokenId", "UnrecognizedClientException", INVALID_TOKEN),
    principals.BAD_TOKEN: ("InvalidClientTokenId", "UnrecognizedClientException", INVALID_TOKEN),
    principals.BAD_SIGNATURE: ("SignatureDoesNotMatch", "InvalidSignatureException", MISMATCH),
    principals.EXPIRED_TOKEN: ("ExpiredToken", "ExpiredTokenException",
                               "The security token included in the request is expired"),
    principals.MALFORMED: ("IncompleteSignature", "IncompleteSignatureException", ""),
    # "Signature expired: ..." / "Signature not yet current: ..." (principals.check_request_time)
    principals.SKEWED: ("SignatureDoesNotMatch", "InvalidSignatureException", ""),
    principals.MISSING_DATE: ("IncompleteSignature", "IncompleteSignatureException", ""),
}


@dataclass
class Refusal:
    """An error in one service's protocol."""

    service: str
    code: str
    message: str
    status: int = 403

    def body_and_headers(self) -> tuple[bytes, list[tuple[str, str]]]:
        request_id = str(uuid.uuid4())
        protocol = PROTOCOLS.get(self.service, "json")
        if protocol in ("query", "rest-xml"):
            xmlns = _XMLNS.get(self.service, "")
            body = (f'<ErrorResponse xmlns="{xmlns}"><Error><Type>Sender</Type>'
                    f"<Code>{self.code}</Code><Message>{escape(self.message)}</Message></Error>"
                    f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
            return body, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        if protocol == "rest-json":
            body = json.dumps({"message": self.message}).encode()
            return body, [("Content-Type", "application/json"), ("x-amzn-ErrorType", self.code),
                          ("x-amzn-RequestId", request_id)]
        body = json.dumps({"__type": self.code, "message": self.message}).encode()
        return body, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)]

    def send(self, start_response: Callable) -> list[bytes]:
        body, headers = self.body_and_headers()
        start_response(f"{self.status} Error", headers + [("Content-Length", str(len(body)))])
        return [body]


def _status(service: str, default: int = 403) -> int:
    return 400 if PROTOCOLS.get(service, "json") == "json" else default


def authentication_refusal(service: str, failure: AuthFailure) -> Refusal:
    query_code, json_code, message = _CODES[failure.kind]
    xml = PROTOCOLS.get(service, "json") in ("query", "rest-xml")
    return Refusal(service, query_code if xml else json_code, message or failure.message,
                   _status(service))


def access_denied(service: str, caller: Caller, action: str, resource: str,
                  decision: iam_eval.Decision) -> Refusal:
    who = caller.principal.arn
    if decision.result == iam_eval.EXPLICIT_DENY:
        why = "with an explicit deny in an identity-based policy"
    else:
        why = f"because no identity-based policy allows the {action} action"
    xml = PROTOCOLS.get(service, "json") in ("query", "rest-xml")
    return Refusal(service, "AccessDenied" if xml else "AccessDeniedException",
                   f"User: {who} is not authorized to perform: {action} on resource: {resource} {why}",
                   _status(service))


# --- the request -----------------------------------------------------------------------------

@dataclass
class Request:
    """What authorization reads of a request: its service, method, path, parameters, body."""

    service: str
    region: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)  # from the path, the query and the body

    def json_body(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read whole and put back for whoever serves the request (control-plane
    bodies are small: a Lambda package is at most 50 MB)."""
    body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["wsgi.input_terminated"] = True
    return body


# --- operations, found in botocore's model of each service -------------------------------------

_routes_lock = threading.Lock()
_routes: dict[str, list[tuple[str, re.Pattern, set[str], str]]] = {}


def _service_routes(service: str) -> list[tuple[str, re.Pattern, set[str], str]]:
    """(method, path regex, query keys it needs, operation) for each REST operation, the most
    specific first."""
    with _routes_lock:
        if service not in _routes:
            import botocore.session

            model = botocore.session.get_session().get_service_model(service)
            routes = []
            for name in model.operation_names:
                http = model.operation_model(name).http
                path, _, query = http["requestUri"].partition("?")
                pattern = ""
                for piece in re.split(r"(\{[^}]+\})", path):
                    if piece.startswith("{"):
                        greedy = piece.endswith("+}")
                        pattern += f"(?P<{piece.strip('{}+')}>{'.+' if greedy else '[^/]+'})"
                    else:
                        pattern += re.escape(piece)
                needed = {part.split("=", 1)[0] for part in query.split("&") if part}
                routes.append((http["method"], re.compile(pattern.rstrip("/") + "/?"), needed, name,
                               len(re.sub(r"\{[^}]+\}", "", path)) + 10 * len(needed)))
            routes.sort(key=lambda r: -r[4])
            _routes[service] = [r[:4] for r in routes]
        return _routes[service]


def rest_operation(request: Request) -> str | None:
    for method, pattern, needed, name in _service_routes(request.service):
        if method != request.method:
            continue
        match = pattern.fullmatch(request.path)
        if match and needed <= set(request.query):
            request.params.update(match.groupdict())  # the path is decoded already
            return name
    return None


def operation_of(request: Request) -> str | None:
    protocol = PROTOCOLS.get(request.service)
    if protocol == "query" or (protocol is None and "Action" in request.params):
        return request.params.get("Action")
    if protocol == "json" or (protocol is None and "x-amz-target" in request.headers):
        request.params.update(request.json_body())
        return request.headers.get("x-amz-target", "").rsplit(".", 1)[-1] or None
    if protocol in ("rest-json", "rest-xml"):
        if request.headers.get("content-type", "").startswith("application/json"):
            request.params.update(request.json_body())
        return rest_operation(request)
    return None


# --- IAM actions and resources ----------------------------------------------------------------

# Operations whose IAM actions are not just service:Operation.
_ACTIONS = {("lambda", "Invoke"): ["InvokeFunction"], ("lambda", "InvokeAsync"): ["InvokeFunction"],
            ("lambda", "InvokeWithResponseStream"): ["InvokeFunction"],
            # "This API operation requires the following IAM permissions: CreateDistribution,
            # TagResource" (CloudFront API Reference, CreateDistributionWithTags)
            ("cloudfront", "CreateDistributionWithTags"): ["CreateDistribution", "TagResource"]}
# Creating with tags also needs the service's tagging action
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html#id_tags_access-control-create-role,
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html).
_TAGGED_CREATES = {("iam", "CreateRole"): "TagRole", ("iam", "CreateUser"): "TagUser",
                   ("iam", "CreatePolicy"): "TagPolicy", ("lambda", "CreateFunction"): "TagResource"}


def _lambda_resource(request: Request, account: str) -> str:
    if "Resource" in request.params:  # tags
        return request.params["Resource"]
    name = request.params.get("FunctionName")
    if not name:
        return "*"
    if name.startswith("arn:"):
        return name
    parts = name.split(":")  # name, name:qualifier, 123456789012:function:name
    if len(parts) >= 3 and parts[1] == "function":
        name = ":".join(parts[2:])
    qualifier = request.query.get("Qualifier")
    return f"arn:aws:lambda:{request.region}:{account}:function:{name}" + (f":{qualifier}" if qualifier else "")


def _iam_resource(request: Request, account: str, operation: str) -> str:
    params = request.params
    base = f"arn:aws:iam::{account}:"
    if operation == "CreateServiceLinkedRole":
        service = params.get("AWSServiceName", "")
        return f"{base}role/aws-service-role/{service}/{moto_bridge.service_linked_role_name(service)}"
    if "RoleName" in params:
        path = params.get("Path") if operation == "CreateRole" else moto_bridge.role_path(account, params["RoleName"])
        return f"{base}role{path or '/'}{params['RoleName']}"
    if "UserName" in params:
        return f"{base}user/{params['UserName']}"
    if "GroupName" in params:
        return f"{base}group/{params['GroupName']}"
    if operation == "CreatePolicy" and "PolicyName" in params:
        return f"{base}policy{params.get('Path') or '/'}{params['PolicyName']}"
    if "PolicyArn" in params:
        return params["PolicyArn"]
    if operation == "SimulatePrincipalPolicy" and "PolicySourceArn" in params:
        return params["PolicySourceArn"]
    return "*"


def _cloudfront_resource(request: Request, account: str, operation: str) -> str:
    if "Resource" in request.query:  # tags
        return request.query["Resource"]
    base = f"arn:aws:cloudfront::{account}:"
    ident = request.params.get("Id", "*")
    for word, kind in (("OriginAccessIdentit", "origin-access-identity"),
                       ("OriginAccessControl", "origin-access-control"),
                       ("Distribution", "distribution")):
        if word in operation:
            return f"{base}{kind}/{ident}"
    return "*"


def _logs_resource(request: Request, account: str) -> str:
    group = request.params.get("logGroupName") or request.params.get("logGroupIdentifier")
    if not group:
        return "*"
    if group.startswith("arn:"):
        return group
    arn = f"arn:aws:logs:{request.region}:{account}:log-group:{group}"
    stream = request.params.get("logStreamName")
    return arn + (f":log-stream:{stream}" if stream else "")


_VERSION_SUFFIX = re.compile(r"\d{4}_\d{2}_\d{2}$")


def checks(request: Request, operation: str, account: str) -> list[tuple[str, str, dict]]:
    """The (action, resource, condition context) pairs a request needs allowed."""
    service = request.service
    if service == "apigateway":
        found = [(f"apigateway:{request.method}", f"arn:aws:apigateway:{request.region}::{request.path}", {})]
        credentials = request.json_body().get("credentials") if request.method == "PUT" else None
        if credentials and request.path.endswith("/integration") and credentials.startswith("arn:"):
            found.append(("iam:PassRole", credentials, {"iam:PassedToService": "apigateway.amazonaws.com"}))
        return found
    # CloudFront's operations may carry their API version (CreateDistribution2020_05_31).
    names = list(_ACTIONS.get((service, operation), [_VERSION_SUFFIX.sub("", operation)]))
    if (service, operation) in _TAGGED_CREATES and (request.params.get("Tags") or any(
            k.startswith("Tags.member.") for k in request.params)):
        names.append(_TAGGED_CREATES[(service, operation)])
    if service == "lambda":
        resource = _lambda_resource(request, account)
    elif service == "iam":
        resource = _iam_resource(request, account, operation)
    elif service == "sts":
        resource = request.params.get("RoleArn", "*")
    elif service == "cloudfront":
        resource = _cloudfront_resource(request, account, operation)
    elif service == "logs":
        resource = _logs_resource(request, account)
    else:
        resource = "*"
    found = [(f"{service}:{name}", resource, {}) for name in names]
    if service == "cloudfront" and operation.startswith(("CreateDistribution", "UpdateDistribution")):
        # Associating Lambda@Edge functions also needs, on each function version,
        # lambda:GetFunction and lambda:EnableReplication* (CloudFront Developer Guide,
        # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html).
        for arn in re.findall(rb"<LambdaFunctionARN>\s*([^<\s]+)\s*</LambdaFunctionARN>", request.body):
            version = arn.decode("utf-8", "replace")
            found += [("lambda:GetFunction", version, {}), ("lambda:EnableReplication", version, {})]
    role = request.params.get("Role")
    if service == "lambda" and operation in ("CreateFunction", "UpdateFunctionConfiguration") and role:
        found.append(("iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"}))
    return found


# Allowed whatever the policies say (STS API reference, GetCallerIdentity: "No permissions are
# required to perform this operation").
ALWAYS_ALLOWED = frozenset({"sts:GetCallerIdentity"})


def check(environ: dict[str, Any], service: str, *, routed_here: bool = False) -> Refusal | None:
    """None when the request may go on to the service; else the service's refusal.

    ``service`` names the service when the local AWS routed the request itself by its path
    (``routed_here``: Lambda invocations, CloudFront origin access identities), where an
    unsigned request is refused as AWS refuses it; otherwise the SigV4 credential scope names
    it, as it does for moto's routing (moto sends unsigned requests to S3)."""
    if not environ.get("HTTP_AUTHORIZATION"):
        if routed_here and "X-Amz-Signature" not in environ.get("QUERY_STRING", ""):
            xml = PROTOCOLS.get(service, "json") in ("query", "rest-xml")
            return Refusal(service, "MissingAuthenticationToken" if xml else "MissingAuthenticationTokenException",
                           "The request must contain either a valid (registered) AWS access key ID or "
                           "X.509 certificate." if xml else "Missing Authentication Token",
                           _status(service))
        return None
    body = read_body(environ)
    try:
        caller = principals.verify_header(environ, s3=False, service=service,
                                          body_sha256=lambda: hashlib.sha256(body).hexdigest())
    except AuthFailure as failure:
        if failure.kind == principals.BAD_SIGNATURE:  # what a client author needs to compare
            log.info("%s %s: signature mismatch; canonical request:\n%s", environ["REQUEST_METHOD"],
                     environ.get("PATH_INFO"), failure.details.get("CanonicalRequest"))
        return authentication_refusal(service, failure)
    if caller.is_root:
        return None
    headers = sigv4.request_headers(environ)
    query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    region = _region(environ) or "us-east-1"
    request = Request(service, region, environ["REQUEST_METHOD"].upper(),
                      environ.get("PATH_INFO", ""), query, headers, body)  # decoded once
    request.params.update(query)
    if PROTOCOLS.get(service) == "query" or headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        request.params.update(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
    if service == "apigateway":
        operation = request.method
    else:
        operation = operation_of(request)
    if operation is None:
        log.warning("control-plane authorization: no %s operation for %s %s; left to the service",
                    service, request.method, request.path)
        return None
    for action, resource, context in checks(request, operation, caller.principal.account or moto_bridge.ACCOUNT_ID):
        if action in ALWAYS_ALLOWED:
            continue
        decision = iam_eval.evaluate(action, resource, identity_policies=caller.identity_policies,
                                     principal=caller.principal,
                                     context={"aws:SecureTransport": "true", **context})
        if not decision.allowed:
            return access_denied(service, caller, action, resource, decision)
    return None


def _region(environ: dict[str, Any]) -> str | None:
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service a SigV4 header names in its credential scope (how moto routes requests)."""
    match = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None
