"""API Gateway's gateway responses: the errors API Gateway itself returns before or instead of
the integration's answer.

Default status codes from "Gateway response types for API Gateway"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
"""
from __future__ import annotations

import json

# type: (status, default message, x-amzn-ErrorType)
GATEWAY_RESPONSES: dict[str, tuple[int, str, str]] = {
    "API_CONFIGURATION_ERROR": (500, "Internal server error", "InternalServerErrorException"),
    "BAD_REQUEST_BODY": (400, "Bad Request", "BadRequestException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "INVALID_API_KEY": (403, "Forbidden", "ForbiddenException"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestEntityTooLargeException"),
    # Lambda's own 6 MB request limit, seen through a proxy integration (captured responses).
    "LAMBDA_REQUEST_TOO_LONG": (413, "Request Too Long", "BadRequestException"),
    # A function error or a malformed proxy response: API Gateway's 502.
    "LAMBDA_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type", "UnsupportedMediaTypeException"),
    # Authorizers ("Use API Gateway Lambda authorizers", "Control access to REST APIs using
    # Amazon Cognito user pools as an authorizer"): a missing or refused identity is 401, a
    # policy that does not allow the method 403 (body key "Message", capitalised, as AWS sends
    # it), an authorizer that fails or answers nonsense 500 with a null message.
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "", "AuthorizerConfigurationException"),
}

EXPLICIT_DENY_MESSAGE = "User is not authorized to access this resource with an explicit deny"


class GatewayError(Exception):
    """A gateway response; ``log`` is the execution-log line that says why (never sent to the client)."""

    def __init__(self, response_type: str, log: str, message: str | None = None) -> None:
        status, default_message, error_type = GATEWAY_RESPONSES[response_type]
        super().__init__(log)
        self.response_type = response_type
        self.status = status
        self.message = message or default_message
        self.error_type = error_type
        self.log = log

    def render(self) -> tuple[dict[str, str], bytes]:
        """Headers and body as API Gateway sends them for this response type."""
        if self.response_type == "REQUEST_TOO_LARGE":
            # Sent before the API's gateway responses apply: plain text, not JSON (captured in
            # public test suites; customising REQUEST_TOO_LARGE does not change it).
            return {"Content-Type": "text/plain"}, self.message.encode()
        if self.response_type == "AUTHORIZER_CONFIGURATION_ERROR":
            body = json.dumps({"message": None})  # {"message": null}
        elif self.response_type == "ACCESS_DENIED":
            body = json.dumps({"Message": self.message}, separators=(",", ":"))
        elif self.status >= 500 or self.response_type == "LAMBDA_REQUEST_TOO_LONG":
            # The 5xx default body is spelled with a space: {"message": "Internal server error"}.
            body = json.dumps({"message": self.message})
        else:
            body = json.dumps({"message": self.message}, separators=(",", ":"))
        return {"Content-Type": "application/json", "x-amzn-ErrorType": self.error_type}, body.encode()


def configuration_error(log: str) -> GatewayError:
    """API Gateway's 500 for a mistake in the API's own set-up (role, mapping, responses)."""
    return GatewayError("API_CONFIGURATION_ERROR", "Execution failed due to configuration error: " + log)
