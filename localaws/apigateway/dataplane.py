"""Execute deployed REST API stages: ``/_aws/execute-api/{api_id}/{stage}/{path}``.

Supported:
- stages serve the deployment they point at (a snapshot taken at CreateDeployment);
- resources with literal parts, ``{param}`` and ``{proxy+}``; methods and ``ANY``;
- authorizers (authorizers.py): Lambda TOKEN and REQUEST authorizers and Cognito user pools,
  their context passed to integrations; API keys (``apiKeyRequired``, key source HEADER, usage
  plans bound to the stage), checked after the authorizer;
- request parameter mapping from path, query string, headers, stage variables, context
  variables and literals; binary media types and content handling;
- integration types AWS (S3, path override) and MOCK; integration responses chosen by
  ``selectionPattern`` against the integration's status code; method responses and
  response parameter mapping;
- the 10 MB payload limit; execution-log lines in CloudWatch Logs
  (``API-Gateway-Execution-Logs_{api_id}/{stage}``).

Limitations: no Velocity (VTL) templates beyond literal text and ``$input.body``; no IAM
(``AWS_IAM``) authorization or resource policies; no throttling or quotas; no caching; HTTP and
HTTP_PROXY integrations are refused (the local AWS makes no outbound calls); execution logs are
always written (on AWS they must be enabled per stage).

The request flow, one way: parse -> route (router.py) -> authorizer -> API key -> integration request ->
the integration handler for its type (integrations.py, given an IntegrationContext from
context.py, never this object) -> method response. The API and its stages are read through the
bridge's readers (``moto_bridge.RestApi``), the deployed resources from the extension store.
"""
from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote

from werkzeug.datastructures import Headers
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import get_input_stream

from .. import moto_bridge
from ..bodies import read_hashed
from ..store import stores
from . import router
from .authorizers import Authorized, AuthorizerRequest, Authorizers
from .context import IntegrationContext, IntegrationRequest, IntegrationResult, media_type_matches
from .exceptions import GatewayError, configuration_error
from .integrations import INTEGRATIONS

PREFIX = "/_aws/execute-api/"
# "Maximum payload size: 10 MB ... can't be increased" (API Gateway quotas for REST APIs,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html)
MAX_PAYLOAD = 10 * 1024 * 1024


# The header list as the client spelled it, kept by the server's request handler: API Gateway
# passes header names on with the client's casing (the environ only has HTTP_UPPER_CASE keys).
RAW_HEADERS = "localaws.raw_headers"
# Dropped before anything sees the request, proxy events included (recorded: a POST's event
# lists neither Connection nor Content-Length); the hop-by-hop headers of RFC 9110 7.6.1.
DROPPED_HEADERS = {"connection", "content-length", "content-md5", "expect", "keep-alive",
                   "max-forwards", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                   "te", "trailer", "transfer-encoding", "upgrade"}


@dataclass
class ApiRequest:
    """What the client sent. ``raw_path`` is the path after the stage exactly as sent
    (percent-encoding, repeated and trailing slashes kept); ``segments`` are its parts without
    the leading and trailing slashes, still percent-encoded."""

    method: str
    api_id: str
    stage: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes
    body_md5: str
    source_ip: str
    port: str = "443"
    scheme: str = "https"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def path(self) -> str:
        """The path as the proxy event's ``path`` gives it: leading slashes collapsed,
        everything else as sent (``/a//b/``, ``%2B``)."""
        return "/" + self.raw_path.lstrip("/")

    @property
    def segments(self) -> list[str]:
        trimmed = self.raw_path.strip("/")
        return trimmed.split("/") if trimmed else []


def _raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw = raw.split("?", 1)[0]
        if "://" in raw:  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].split("/", 1)[-1]
        return raw
    return environ.get("PATH_INFO", "")


def _as_text(body: bytes) -> bytes:
    # A payload API Gateway does not treat as binary travels as a UTF-8 string: bytes that are
    # not valid UTF-8 are replaced (U+FFFD), which is how binary uploads arrive corrupted.
    return body.decode("utf-8", errors="replace").encode("utf-8")


def convert_payload(body: bytes, binary: bool, handling: str | None, *, where: str) -> bytes:
    """Content handling, as in "Content type conversions in API Gateway"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html):
    a binary payload stays bytes unless CONVERT_TO_TEXT base64-encodes it; a text payload is
    UTF-8 text unless CONVERT_TO_BINARY base64-decodes it, and one that is not base64 is a 500."""
    if handling == "CONVERT_TO_TEXT":
        return base64.b64encode(body) if binary else _as_text(body)
    if handling == "CONVERT_TO_BINARY" and not binary:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise configuration_error(f"Unable to base64-decode the {where} body for "
                                      "CONVERT_TO_BINARY") from None
    return body if binary else _as_text(body)


def _client_headers(environ: dict[str, Any]) -> Headers:
    """The request's headers in the client's order and spelling. ``Authorization`` is the one
    name AWS normalises (recorded: ``aUThorization`` arrives as ``Authorization``)."""
    raw = environ.get(RAW_HEADERS)
    if raw is None:  # a server without the raw list: names rebuilt from the environ
        raw = [(k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            raw.append(("Content-Type", environ["CONTENT_TYPE"]))
    headers = Headers()
    for name, value in raw:
        if name.lower() in DROPPED_HEADERS:
            continue
        headers.add("Authorization" if name.lower() == "authorization" else name, value)
    return headers


class ApiGatewayDataPlane:
    """WSGI app for the execute-api path; integrations reach S3 and Lambda through the
    IntegrationContext it builds for each request."""

    def __init__(self, s3_front: Any, lambda_service: Any) -> None:
        self.s3 = s3_front
        self.awslambda = lambda_service
        self.authorizers = Authorizers(lambda_service)

    # --- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> list[bytes]:
        started = time.time()
        stream = get_input_stream(environ)
        request: ApiRequest | None = None
        log: list[str] = []
        try:
            request = self._parse(environ, stream)
            log.append(f"({request.request_id}) Received request: {request.method} {request.path}")
            status, headers, body = self._handle(request, log)
        except GatewayError as err:
            if err.log:
                log.append(f"({request.request_id if request else '-'}) {err.log}")
            status = err.status
            headers, body = err.render()
        except _UnknownApi as err:
            status, headers, body = 404, {"Content-Type": "application/json"}, json.dumps(
                {"message": str(err)}
            ).encode()
        finally:
            # Read what the client still sends so that it receives the answer, not a reset.
            while stream.read(1024 * 1024):
                pass
        request_id = request.request_id if request else str(uuid.uuid4())
        headers = {**headers, "x-amzn-RequestId": request_id,
                   "x-amz-apigw-id": base64.b32encode(uuid.uuid4().bytes)[:16].decode(),
                   "Content-Length": str(len(body))}
        if request is not None:
            log.append(
                f"({request_id}) Method completed with status: {status} "
                f"({(time.time() - started) * 1000:.0f} ms)"
            )
            self._write_log(request, log)
        start_response(f"{status} {_reason(status)}", list(headers.items()))
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _parse(self, environ: dict[str, Any], stream: Any) -> ApiRequest:
        raw = _raw_path(environ)[len(PREFIX):]
        parts = raw.split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise _UnknownApi(
                "Use /_aws/execute-api/{api_id}/{stage}/{path}: the API id and stage are missing."
            )
        api_id, stage = unquote(parts[0]), unquote(parts[1])
        raw_path = "/" + parts[2] if len(parts) > 2 else "/"
        headers = _client_headers(environ)
        declared = environ.get("CONTENT_LENGTH")
        if declared and declared.isdigit() and int(declared) > MAX_PAYLOAD:
            raise GatewayError("REQUEST_TOO_LARGE", f"Request body of {declared} bytes is over the 10 MB limit",
                               message=f"HTTP content length exceeded {MAX_PAYLOAD} bytes.")
        # Read in chunks with the MD5 computed alongside: S3 needs it for the ETag if the body
        # goes there unchanged, and hashing while the socket delivers costs almost nothing.
        body, body_md5 = read_hashed(stream, int(declared) if declared and declared.isdigit() else MAX_PAYLOAD + 1)
        if len(body) > MAX_PAYLOAD:
            raise GatewayError("REQUEST_TOO_LARGE", "Chunked request body is over the 10 MB limit",
                               message=f"HTTP content length exceeded {MAX_PAYLOAD} bytes.")
        if declared and declared.isdigit() and len(body) < int(declared):
            # The client hung up mid-body: API Gateway never forwards a partial request.
            raise ClientDisconnected()
        return ApiRequest(
            method=environ["REQUEST_METHOD"].upper(),
            api_id=api_id,
            stage=stage,
            raw_path=raw_path,
            query=parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
            body_md5=body_md5,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
            port=str(environ.get("SERVER_PORT", "443")),
            scheme=environ.get("wsgi.url_scheme", "https"),
        )

    # --- the request flow -------------------------------------------------------------------

    def _handle(self, request: ApiRequest, log: list[str]) -> tuple[int, dict[str, str], bytes]:
        found = moto_bridge.find_rest_api(request.api_id)
        if found is None:
            raise _UnknownApi(
                f"No REST API with id '{request.api_id}' exists in the local AWS "
                "(on AWS this host name would not resolve). Check the id from create_rest_api."
            )
        account, region = found.account, found.region
        stage = found.stages.get(request.stage)
        deployment_id = stage.deployment_id if stage is not None else None
        snapshot = None
        if deployment_id is not None:
            snapshot = stores.apigateway.deployment(account, region, found.id, deployment_id)
        if snapshot is None:
            # No such stage (or never deployed): API Gateway answers as for an unknown route.
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN",
                               f"Stage '{request.stage}' does not exist or has no deployment")
        route = router.match(snapshot["resources"], request.segments, request.method)
        if route is not None:
            route.deployment_id = deployment_id
        if route is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN",
                               f"No method {request.method} on a resource matching {request.path}")
        method = route.method
        log.append(f"({request.request_id}) Resource path: {route.resource['path']}, "
                   f"method: {method['httpMethod']}, path parameters: {route.path_parameters}")

        variables = dict(stage.variables) if stage is not None else {}
        context = self._context(request, route, account)
        authorized = self._authorize(request, route, method, snapshot, variables, context, log)
        if authorized is not None:
            context.update({f"authorizer.{k}": v for k, v in authorized.variables.items()})
        if method.get("apiKeyRequired"):
            self._check_api_key(request, account, region, snapshot, log)

        integration = method.get("methodIntegration")
        if not integration:
            raise configuration_error(f"no integration is defined for {method['httpMethod']} "
                                      f"{route.resource['path']}")
        integration_request = self._integration_request(request, route, integration, snapshot,
                                                        variables, context, authorized)
        handler = INTEGRATIONS.get(integration.get("type") or "")
        if handler is None:
            raise configuration_error(
                f"the {integration.get('type')} integration type is not implemented in the local AWS"
            )
        log.append(f"({request.request_id}) Endpoint request: {integration_request.describe()}")
        result = handler(IntegrationContext(integration_request, self.s3, self.awslambda))
        log.append(f"({request.request_id}) Endpoint response status: {result.status}")
        return self._method_response(request, method, integration, result, snapshot, log)

    def _authorize(self, request: ApiRequest, route: router.Match, method: dict, snapshot: dict,
                   variables: dict[str, str], context: dict[str, str],
                   log: list[str]) -> Authorized | None:
        authorization = (method.get("authorizationType") or "NONE").upper()
        if authorization == "NONE":
            return None
        if authorization not in ("CUSTOM", "COGNITO_USER_POOLS"):
            raise configuration_error(
                f"the local AWS does not run {authorization} authorization; use a Lambda or "
                "Cognito authorizer, API keys, or authorizationType NONE")
        config = (snapshot.get("authorizers") or {}).get(method.get("authorizerId") or "")
        # The method ARN names the request's own path (not the resource template).
        method_arn = (f"arn:aws:execute-api:{snapshot['region']}:{context['accountId']}:"
                      f"{request.api_id}/{request.stage}/{request.method}{request.path}")

        def identity(source: str) -> str | None:
            return self._source_value(source, request, route, variables, context)

        def request_event() -> dict[str, Any]:
            event = self._proxy_event(request, route, variables, context, binary=False)
            event.pop("body", None)
            event.pop("isBase64Encoded", None)
            return event

        return self.authorizers.authorize(authorization, config, AuthorizerRequest(
            api_id=request.api_id, stage=request.stage, account=context["accountId"],
            region=snapshot["region"], request_id=request.request_id, method_arn=method_arn,
            identity=identity, request_event=request_event,
            authorization_scopes=list(method.get("authorizationScopes") or [])), log)

    def _check_api_key(self, request: ApiRequest, account: str, region: str,
                       snapshot: dict, log: list[str]) -> None:
        # Only the x-api-key header is read (apiKeySource HEADER); a key must be enabled and
        # belong to a usage plan that includes this API stage.
        value = request.headers.get("x-api-key")
        keys = moto_bridge.api_keys_for_stage(account, region, request.api_id, request.stage)
        key = keys.get(value or "")
        # A key linked to its plan moments ago is refused the same way until the link has
        # propagated (moto_bridge.API_KEY_PROPAGATION_SECONDS, compressed time).
        if not value or key is None or not key["enabled"] or not key["effective"]:
            raise GatewayError("INVALID_API_KEY", "API Key not authorized: missing, unknown, "
                               "disabled, or not in a usage plan for this stage")
        log.append(f"({request.request_id}) API Key {key['id']} authorized")

    @staticmethod
    def _context(request: ApiRequest, route: router.Match, account: str) -> dict[str, str]:
        return {
            "requestId": request.request_id,
            "extendedRequestId": request.request_id,
            "accountId": account,
            "apiId": request.api_id,
            "stage": request.stage,
            "httpMethod": request.method,
            "resourcePath": route.resource["path"],
            "resourceId": route.resource["id"],
            "path": f"/{request.stage}{request.raw_path}",
            "identity.sourceIp": request.source_ip,
            "identity.userAgent": request.headers.get("User-Agent", ""),
            "requestTimeEpoch": str(int(time.time() * 1000)),
            "deploymentId": route.deployment_id,
        }

    def _integration_request(self, request: ApiRequest, route: router.Match, integration: dict,
                             snapshot: dict, variables: dict[str, str],
                             context: dict[str, str],
                             authorized: Authorized | None = None) -> IntegrationRequest:
        mapped: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
        for target, source in (integration.get("requestParameters") or {}).items():
            match = re.fullmatch(r"integration\.request\.(path|querystring|header)\.(.+)", target)
            if not match:
                raise configuration_error(f"Invalid mapping expression specified: {target}")
            value = self._source_value(source, request, route, variables, context)
            if value is not None:
                mapped[match.group(1)][match.group(2)] = value

        # Unmapped method headers are not forwarded, except the client's Content-Type on
        # requests with a body (as LocalStack's AWS-validated tests observe).
        if (request.method not in ("GET", "HEAD", "OPTIONS") and request.headers.get("Content-Type")
                and not any(k.lower() == "content-type" for k in mapped["header"])):
            mapped["header"]["Content-Type"] = request.headers["Content-Type"]

        # A request without Content-Type is taken as application/json (PASSTHRU doc).
        binary = media_type_matches(request.headers.get("Content-Type") or "application/json",
                                    snapshot["binaryMediaTypes"])
        body = request.body
        if integration.get("type") != "AWS_PROXY":  # the proxy event carries the body itself
            body = convert_payload(body, binary, integration.get("contentHandling"), where="request")
        templates = integration.get("requestTemplates") or {}
        content_type = (request.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        template = templates.get(content_type)
        passthrough = (integration.get("passthroughBehavior") or "WHEN_NO_MATCH").upper()
        proxy = integration.get("type") in ("AWS_PROXY", "HTTP_PROXY")
        if proxy:
            template = None
        elif template is None and templates and passthrough in ("NEVER", "WHEN_NO_TEMPLATES"):
            raise GatewayError("UNSUPPORTED_MEDIA_TYPE",
                               f"No request template for Content-Type {content_type}")
        elif template is None and not templates and passthrough == "NEVER":
            raise GatewayError("UNSUPPORTED_MEDIA_TYPE",
                               f"Passthrough is NEVER and no template exists for {content_type}")
        if template:
            body = render_template(template, body, log_name="request template")
        elif body is not request.body and body == request.body:
            body = request.body  # unchanged: S3 can still reuse the MD5 computed on arrival

        uri = integration.get("uri") or ""
        uri = re.sub(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}",
                     lambda m: variables.get(m.group(1), ""), uri)
        region = snapshot["region"]
        method = request.method
        source_arn = (f"arn:aws:execute-api:{region}:{context['accountId']}:{request.api_id}/"
                      f"{request.stage}/{method}{route.resource['path']}")
        event = None
        if integration.get("type") == "AWS_PROXY":
            event = self._proxy_event(request, route, variables, context, binary)
            if authorized is not None:
                event["requestContext"]["authorizer"] = authorized.authorizer
        try:
            timeout = int(integration.get("timeoutInMillis") or 29000) / 1000
        except ValueError:
            timeout = 29.0
        # integrationHttpMethod ANY (a common S3-proxy shortcut) forwards the client's method.
        http_method = (integration.get("httpMethod") or request.method).upper()
        if http_method == "ANY":
            http_method = request.method
        return IntegrationRequest(
            type=integration.get("type") or "",
            http_method=http_method,
            uri=uri,
            credentials=integration.get("credentials"),
            path_parameters=mapped["path"],
            query=mapped["querystring"],
            headers=mapped["header"],
            body=body,
            # The body unchanged (binary passthrough): S3 can reuse its MD5 for the ETag.
            body_md5=request.body_md5 if body is request.body else None,
            account=context["accountId"],
            request_templates=templates,
            content_type=content_type,
            event=event,
            source_arn=source_arn,
            region=region,
            binary_media_types=snapshot["binaryMediaTypes"],
            accept=request.headers.get("Accept"),
            timeout=timeout,
        )

    @staticmethod
    def _proxy_event(request: ApiRequest, route: router.Match, variables: dict[str, str],
                     context: dict[str, str], binary: bool) -> dict[str, Any]:
        """The REST API (v1) Lambda proxy event; absent parts are null, as AWS sends them."""
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            multi_headers.setdefault(name, []).append(value)
        # What API Gateway's front end adds (recorded in every event): the trace id and the
        # X-Forwarded-* trio, the client's address appended to any X-Forwarded-For it sent.
        present = {name.lower(): name for name in multi_headers}
        if "x-amzn-trace-id" not in present:
            multi_headers["X-Amzn-Trace-Id"] = [f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"]
        forwarded = multi_headers.pop(present.get("x-forwarded-for", "X-Forwarded-For"), [])
        multi_headers["X-Forwarded-For"] = [", ".join([*forwarded, request.source_ip])]
        multi_headers["X-Forwarded-Port"] = [request.port]
        multi_headers["X-Forwarded-Proto"] = [request.scheme]
        multi_query: dict[str, list[str]] = {}
        for name, value in request.query:
            multi_query.setdefault(name, []).append(value)
        if binary and request.body:
            body, encoded = base64.b64encode(request.body).decode(), True
        elif request.body:
            body, encoded = request.body.decode("utf-8", errors="replace"), False
        else:
            body, encoded = None, False
        now = time.time()
        return {
            "resource": route.resource["path"],
            "path": request.path,
            "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(route.path_parameters) or None,
            "stageVariables": dict(variables) or None,
            "requestContext": {
                "accountId": context["accountId"], "apiId": request.api_id,
                "deploymentId": context.get("deploymentId"), "domainName": request.headers.get("Host"),
                "domainPrefix": request.api_id, "extendedRequestId": request.request_id,
                "httpMethod": request.method,
                "identity": {"accessKey": None, "accountId": None, "caller": None,
                             "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
                             "cognitoIdentityId": None, "cognitoIdentityPoolId": None,
                             "principalOrgId": None, "sourceIp": request.source_ip, "user": None,
                             "userAgent": request.headers.get("User-Agent"), "userArn": None,
                             "apiKey": request.headers.get("x-api-key")},
                "path": f"/{request.stage}{request.raw_path}", "protocol": "HTTP/1.1",
                "requestId": request.request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000), "resourceId": route.resource["id"],
                "resourcePath": route.resource["path"], "stage": request.stage,
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def _source_value(source: str, request: ApiRequest, route: router.Match,
                      variables: dict[str, str], context: dict[str, str]) -> str | None:
        if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        match = re.fullmatch(r"method\.request\.(path|querystring|multivaluequerystring|header|"
                             r"multivalueheader)\.(.+)", source)
        if match:
            kind, name = match.groups()
            if kind == "path":
                return route.path_parameters.get(name)
            if kind in ("querystring", "multivaluequerystring"):
                values = [v for k, v in request.query if k == name]
                if not values:
                    return None
                return values[-1] if kind == "querystring" else ",".join(values)
            values = request.headers.getlist(name)
            if not values:
                return None
            return values[-1] if kind == "header" else ",".join(values)
        if source.startswith("stageVariables."):
            return variables.get(source[len("stageVariables."):])
        if source.startswith("context."):
            return context.get(source[len("context."):])
        raise configuration_error(f"Invalid mapping expression specified: {source}")

    def _method_response(self, request: ApiRequest, method: dict, integration: dict,
                         result: IntegrationResult, snapshot: dict,
                         log: list[str]) -> tuple[int, dict[str, str], bytes]:
        if result.proxy:
            return result.status, result.headers, result.body
        responses = integration.get("integrationResponses") or {}
        chosen = None
        default = None
        for response in responses.values():
            pattern = response.get("selectionPattern")
            if not pattern:
                default = response
            elif re.fullmatch(pattern, str(result.selector), re.DOTALL):
                chosen = response
                break
        chosen = chosen or default
        if chosen is None:
            raise configuration_error(
                "No match for output mapping and no default output mapping configured. "
                f"Endpoint Response Status Code: {result.status}"
            )
        status = str(chosen["statusCode"])
        if status not in (method.get("methodResponses") or {}):
            raise configuration_error(f"Output mapping refers to an invalid method response: {status}")

        headers: dict[str, str] = {"Content-Type": "application/json"}
        for target, source in (chosen.get("responseParameters") or {}).items():
            if not target.startswith("method.response.header."):
                continue
            name = target[len("method.response.header."):]
            if source.startswith("'") and source.endswith("'"):
                headers[name] = source[1:-1]
            elif source.startswith("integration.response.header."):
                wanted = source[len("integration.response.header."):].lower()
                for key, value in result.headers.items():
                    if key.lower() == wanted:
                        headers[name] = value
        # The integration's payload is binary when its Content-Type is a binary media type; with
        # no contentHandling it is converted to what the client's first Accept type asks for
        # (recorded against AWS: a binary payload for a text Accept arrives base64-encoded, a
        # text payload for a binary Accept is base64-decoded, or a 500 if it is not base64).
        media_types = snapshot["binaryMediaTypes"]
        payload_type = next((v for k, v in result.headers.items() if k.lower() == "content-type"), None)
        handling = chosen.get("contentHandling") or (
            "CONVERT_TO_BINARY" if media_type_matches(request.headers.get("Accept"), media_types)
            else "CONVERT_TO_TEXT")
        body = convert_payload(result.body, media_type_matches(payload_type, media_types), handling,
                               where="integration response")
        templates = chosen.get("responseTemplates") or {}
        template = templates.get("application/json") if templates else None
        if template:
            body = render_template(template, body, log_name="response template")
        log.append(f"({request.request_id}) Method response status {status} (integration "
                   f"response selected by {chosen.get('selectionPattern') or 'default'})")
        return int(status), headers, body

    @staticmethod
    def _write_log(request: ApiRequest, lines: list[str]) -> None:
        found = moto_bridge.find_rest_api(request.api_id)
        if found is None:
            return
        try:
            moto_bridge.put_log_lines(found.account, found.region,
                                      f"API-Gateway-Execution-Logs_{request.api_id}/{request.stage}",
                                      time.strftime("%Y/%m/%d/local"), lines)
        except Exception:  # logging must never change the answer the client gets
            pass


class _UnknownApi(Exception):
    pass


def render_template(template: str, body: bytes, *, log_name: str) -> bytes:
    """Literal templates and ``$input.body``; anything else is VTL the local AWS cannot run."""
    # Checked on the template itself: a body that contains "$" or "#if" is data, not VTL.
    rest = template.replace("$input.body", "")
    if "$" in rest.replace("$$", "") or "#set" in rest or "#if" in rest or "#foreach" in rest:
        raise configuration_error(
            f"the {log_name} uses Velocity (VTL) expressions, which the local AWS does not evaluate"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Templates work on text: binary bytes (for example after CONVERT_TO_BINARY) reaching
        # one fail the request with a 500, as recorded against AWS.
        raise configuration_error(f"the {log_name} received a binary payload, which is not UTF-8 "
                                  "text") from None
    return template.replace("$input.body", text).encode("utf-8")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
