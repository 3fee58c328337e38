"""CloudFront's REST-XML errors (status codes from the service model)."""
from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


class CloudFrontError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def render(self) -> bytes:
        return (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type>'
                f"<Code>{self.code}</Code><Message>{escape(self.message)}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()


def missing_if_match() -> CloudFrontError:
    return CloudFrontError(400, "InvalidIfMatchVersion",
                           "The If-Match version is missing or not valid for the resource.")


def precondition_failed() -> CloudFrontError:
    return CloudFrontError(412, "PreconditionFailed",
                           "The request failed because it didn't meet the preconditions in one or "
                           "more request-header fields.")
