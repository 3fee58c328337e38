"""The S3 data plane in front of moto's S3: who is asking (auth), may they (front, with IAM and
bucket policies), is the body what it claims (integrity: checksums, multipart rules), and
browser uploads (post: presigned POST policies)."""
from .auth import Caller, S3AuthError, authenticate
from .errors import S3Response, error_response
from .front import S3Front

__all__ = ["Caller", "S3AuthError", "S3Front", "S3Response", "authenticate", "error_response"]
