"""Method authorization by authorizer: Lambda authorizers (``TOKEN``, ``REQUEST``) and Amazon
Cognito user pools (``COGNITO_USER_POOLS``), run before the API key check and the integration.

As the API Gateway Developer Guide describes them:
- "Use API Gateway Lambda authorizers"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html),
  "Input to an API Gateway Lambda authorizer"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html)
  and "Output from an API Gateway Lambda authorizer"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html);
- "Control access to REST APIs using Amazon Cognito user pools as an authorizer"
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html).

Supported:
- TOKEN: the identity source header (``method.request.header.X``) must be present and match
  ``identityValidationExpression`` when one is set (else 401, the function is not called); the
  event is ``{"type": "TOKEN", "authorizationToken", "methodArn"}``;
- REQUEST: every identity source (headers, query strings, stage variables, context variables)
  must be non-empty (else 401); the event is the request as a proxy event without the body, plus
  ``type`` and ``methodArn``;
- the function is invoked through the Lambda runtime, allowed by its resource policy (SourceArn
  ``arn:aws:execute-api:{region}:{account}:{api}/authorizers/{id}``) or by the authorizer's
  ``authorizerCredentials`` role; it raising ``Unauthorized`` is a 401; any other error, a timeout,
  a missing permission or an output without ``principalId``/``policyDocument``, or with a
  ``context`` value that is an object or a list, is a 500 ``{"message": null}``
  (``AuthorizerConfigurationException``);
- the returned policy is evaluated for ``execute-api:Invoke`` on the method ARN (the request's
  own path, ``*`` and ``?`` wildcards): an explicit Deny is 403 "... with an explicit deny", no
  Allow 403 "User is not authorized to access this resource";
- results (the policy, principal and context) are cached for ``authorizerResultTtlInSeconds``
  (real seconds; 0 turns caching off) per API stage, authorizer and identity-source values; a
  cached policy is evaluated again against each request's method ARN;
- ``context`` and ``principalId`` reach AWS_PROXY integrations as ``requestContext.authorizer``
  (values as strings, ``integrationLatency`` in ms) and mappings as ``context.authorizer.*``;
- COGNITO_USER_POOLS: the token from the identity source must be an RS256 JWT of one of the
  ``providerARNs`` pools (signature by the pool's key, ``iss``, ``exp``, ``token_use``); with
  ``authorizationScopes`` on the method it must be an access token holding one of them; the
  claims (as strings; ``exp``/``iat`` as dates) reach integrations as
  ``requestContext.authorizer.claims``. Refusals are 401 ``{"message":"Unauthorized"}``.

Limitations: no ``usageIdentifierKey`` (apiKeySource AUTHORIZER), no IAM (``AWS_IAM``)
authorization, no resource policies; Cognito results are not cached (each token is verified).
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .. import cognito, iam_eval
from .exceptions import EXPLICIT_DENY_MESSAGE, GatewayError
from .integrations import LAMBDA_URI, may_invoke, run_function

# How long API Gateway waits for an authorizer function before failing the request.
AUTHORIZER_TIMEOUT = 10.0


@dataclass
class AuthorizerRequest:
    """What an authorizer needs of the method request; built by the data plane."""

    api_id: str
    stage: str
    account: str
    region: str
    request_id: str
    method_arn: str
    # Resolves an identity-source expression (method.request.header.X, ...) to its value.
    identity: Callable[[str], str | None]
    # The REQUEST authorizer's event without type and methodArn (a proxy event without body).
    request_event: Callable[[], dict[str, Any]]
    authorization_scopes: list[str] = field(default_factory=list)


@dataclass
class Authorized:
    """The outcome of a successful authorization."""

    # requestContext.authorizer of a proxy event.
    authorizer: dict[str, Any]
    # context.authorizer.* for mappings ("principalId", "claims.sub", ...).
    variables: dict[str, str]


def _unauthorized(log: str) -> GatewayError:
    return GatewayError("UNAUTHORIZED", log)


def _authorizer_error(log: str) -> GatewayError:
    return GatewayError("AUTHORIZER_CONFIGURATION_ERROR",
                        f"Execution failed due to configuration error: {log}")


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Authorizers:
    """Runs a method's authorizer; holds the result cache of Lambda authorizers."""

    def __init__(self, awslambda: Any) -> None:
        self.awslambda = awslambda
        self._lock = threading.Lock()
        self._cache: dict[tuple, tuple[float, dict[str, Any]]] = {}

    def reset(self) -> None:
        with self._lock:
            self._cache.clear()

    def authorize(self, kind: str, config: dict[str, Any] | None, request: AuthorizerRequest,
                  log: list[str]) -> Authorized:
        if config is None:
            # PutMethod refuses an unknown authorizerId on AWS; a deleted one fails at run time.
            raise _authorizer_error(f"the method's {kind} authorizer does not exist in this deployment")
        log.append(f"({request.request_id}) Starting authorizer: {config.get('id')} for request: "
                   f"{request.request_id}")
        authorizer_type = (config.get("type") or "").upper()
        if authorizer_type == "COGNITO_USER_POOLS":
            return self._cognito(config, request, log)
        if authorizer_type in ("TOKEN", "REQUEST"):
            return self._lambda(authorizer_type, config, request, log)
        raise _authorizer_error(f"unknown authorizer type {authorizer_type!r}")

    # --- Lambda authorizers ----------------------------------------------------------------

    def _identity_values(self, authorizer_type: str, config: dict[str, Any],
                         request: AuthorizerRequest) -> list[str]:
        sources = [s.strip() for s in (config.get("identitySource") or "").split(",") if s.strip()]
        if authorizer_type == "TOKEN" and not sources:
            sources = ["method.request.header.Authorization"]
        values = []
        for source in sources:
            value = request.identity(source)
            if not value:
                raise _unauthorized(f"Unauthorized request: {request.request_id} "
                                    f"(identity source {source} is missing or empty)")
            values.append(value)
        if authorizer_type == "TOKEN":
            expression = config.get("identityValidationExpression")
            if expression and re.fullmatch(expression, values[0]) is None:
                raise _unauthorized(f"Unauthorized request: {request.request_id} (the token does "
                                    "not match the identityValidationExpression)")
        return values

    def _lambda(self, authorizer_type: str, config: dict[str, Any], request: AuthorizerRequest,
                log: list[str]) -> Authorized:
        values = self._identity_values(authorizer_type, config, request)
        log.append(f"({request.request_id}) Incoming identity: " + ", ".join("***" + v[-4:] if len(v) > 8
                                                                           else "***" for v in values))
        ttl = config.get("authorizerResultTtlInSeconds")
        ttl = 300 if ttl is None else int(ttl)
        key = (request.account, request.region, request.api_id, request.stage, config.get("id"),
               tuple(values))
        started = time.monotonic()
        output = None
        if ttl > 0:
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and cached[0] > started:
                output = cached[1]
                log.append(f"({request.request_id}) Using cached authorizer result "
                           f"(authorizerResultTtlInSeconds {ttl})")
        if output is None:
            output = self._invoke(authorizer_type, config, request, values, log)
            if ttl > 0:
                with self._lock:
                    self._cache[key] = (time.monotonic() + ttl, output)
        latency = int((time.monotonic() - started) * 1000)
        principal = output["principalId"]
        decision = iam_eval.evaluate("execute-api:Invoke", request.method_arn,
                                     identity_policies=[output["policyDocument"]])
        if decision.result == iam_eval.EXPLICIT_DENY:
            log.append(f"({request.request_id}) The client is not authorized to perform this "
                       "operation (explicit deny).")
            raise GatewayError("ACCESS_DENIED", f"Authorizer denied {request.method_arn} explicitly",
                               message=EXPLICIT_DENY_MESSAGE)
        if decision.result != iam_eval.ALLOW:
            log.append(f"({request.request_id}) The client is not authorized to perform this operation.")
            raise GatewayError("ACCESS_DENIED", f"Authorizer policy does not allow {request.method_arn}")
        log.append(f"({request.request_id}) Using valid authorizer policy for principal: ***"
                   f"{str(principal)[-4:]}")
        log.append(f"({request.request_id}) Successfully completed authorizer execution")
        context = {k: _as_string(v) for k, v in (output.get("context") or {}).items()}
        authorizer: dict[str, Any] = {**context, "principalId": _as_string(principal),
                                      "integrationLatency": latency}
        variables = {**context, "principalId": _as_string(principal)}
        return Authorized(authorizer, variables)

    def _invoke(self, authorizer_type: str, config: dict[str, Any], request: AuthorizerRequest,
                values: list[str], log: list[str]) -> dict[str, Any]:
        uri = config.get("authorizerUri") or ""
        match = LAMBDA_URI.fullmatch(uri)
        if not match:
            raise _authorizer_error(f"Invalid authorizer URI {uri!r}")
        arn = match.group("function")
        function = self.awslambda.function(request.account, arn.split(":")[3], arn)
        source_arn = (f"arn:aws:execute-api:{request.region}:{request.account}:{request.api_id}/"
                      f"authorizers/{config.get('id')}")
        try:
            allowed = function is not None and may_invoke(
                function, request.account, credentials=config.get("authorizerCredentials"),
                source_arn=source_arn)
        except GatewayError as err:  # the authorizer's role cannot be assumed
            raise _authorizer_error(err.log) from None
        if not allowed:
            raise _authorizer_error("Invalid permissions on Lambda function (authorizer "
                                    f"{config.get('id')}: {arn})")
        if authorizer_type == "TOKEN":
            event = {"type": "TOKEN", "methodArn": request.method_arn, "authorizationToken": values[0]}
        else:
            event = {"type": "REQUEST", "methodArn": request.method_arn, **request.request_event()}
        log.append(f"({request.request_id}) Sending request to https://lambda.{request.region}."
                   f"amazonaws.com/2015-03-31/functions/{arn}/invocations")
        result = run_function(self.awslambda, function, json.dumps(event), AUTHORIZER_TIMEOUT)
        if result is None:
            raise _authorizer_error(f"Authorizer error (timed out after {AUTHORIZER_TIMEOUT:.0f} s)")
        if result.failed:
            message = (result.error or {}).get("errorMessage")
            if message == "Unauthorized":
                raise _unauthorized(f"Unauthorized request: {request.request_id} (the authorizer "
                                    "raised Unauthorized)")
            raise _authorizer_error(f"Authorizer error: {message}. Lambda request id: {result.request_id}")
        text = result.payload.decode("utf-8", errors="replace")
        log.append(f"({request.request_id}) Authorizer result body before parsing: {text}")
        return self._parse_output(text)

    @staticmethod
    def _parse_output(text: str) -> dict[str, Any]:
        try:
            output = json.loads(text)
        except ValueError:
            raise _authorizer_error("Could not parse authorizer result (not JSON)") from None
        if not isinstance(output, dict) or output.get("principalId") in (None, ""):
            raise _authorizer_error("Invalid authorizer result: principalId is missing")
        policy = output.get("policyDocument")
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError:
                policy = None
        if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), (list, dict)):
            raise _authorizer_error("Could not parse policy")
        context = output.get("context")
        if context is not None:
            if not isinstance(context, dict) or any(isinstance(v, (dict, list)) for v in context.values()):
                raise _authorizer_error("Invalid authorizer result: context values must be strings, "
                                        "numbers or booleans")
        return {"principalId": output["principalId"], "policyDocument": policy, "context": context}

    # --- Cognito user pools ---------------------------------------------------------------

    def _cognito(self, config: dict[str, Any], request: AuthorizerRequest, log: list[str]) -> Authorized:
        source = (config.get("identitySource") or "method.request.header.Authorization").split(",")[0].strip()
        token = request.identity(source)
        if not token:
            raise _unauthorized(f"Unauthorized request: {request.request_id} (no token in {source})")
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        pools = [cognito.pool_id_from_arn(arn) for arn in config.get("providerARNs") or []]
        try:
            verified = cognito.verify_token(token, pools)
        except cognito.InvalidToken as why:
            raise _unauthorized(f"Unauthorized request: {request.request_id} ({why})") from None
        claims = verified.claims
        scopes = request.authorization_scopes
        if scopes:
            held = str(claims.get("scope") or "").split()
            if claims.get("token_use") != "access" or not set(held) & set(scopes):
                raise _unauthorized(f"Unauthorized request: {request.request_id} (the token holds "
                                    f"none of the method's authorizationScopes {scopes})")
        log.append(f"({request.request_id}) Successfully completed authorizer execution "
                   f"(user pool {verified.pool_id}, sub ***{str(claims.get('sub'))[-4:]})")
        as_strings = {k: _claim_text(k, v) for k, v in claims.items()}
        variables = {f"claims.{k}": v for k, v in as_strings.items()}
        return Authorized({"claims": as_strings}, variables)


def _claim_text(name: str, value: Any) -> str:
    """Claims as API Gateway passes them on: strings; ``exp`` and ``iat`` as dates
    ("Fri Jul 29 18:52:53 UTC 2016")."""
    if name in ("exp", "iat") and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, list):
        return "[" + " ".join(_as_string(v) for v in value) + "]"
    return _as_string(value)
