"""Browser-based uploads: POST to a bucket with a signed policy (what generate_presigned_post makes).

S3 checks the policy's signature (SigV4 or SigV2), its expiration, that every condition holds
and that every form field is covered by a condition, that the file is within
``content-length-range``, and that the signer may ``s3:PutObject`` the key
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
The body is spooled to a temporary file (memory up to 8 MiB) and moto stores it only when all
checks pass.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tempfile
from datetime import datetime, timezone
from typing import Any, Callable

from werkzeug.formparser import parse_form_data
from werkzeug.wsgi import get_input_stream

from .auth import S3AuthError, check_token, check_token_expiry, lookup_key, same_secret, sigv4_key
from .errors import S3Response, error_response, refuse

# Fields that need no condition (x-ignore-* neither).
_EXEMPT = {"x-amz-signature", "file", "policy", "awsaccesskeyid", "signature", "x-amz-security-token"}


def _policy_failure(condition: list) -> S3Response:
    return error_response(403, "AccessDenied",
                          "Invalid according to Policy: Policy Condition failed: " + json.dumps(condition))


class PostUploads:
    def __init__(self, front: Any) -> None:
        self.front = front

    def handle(self, environ: dict[str, Any], start_response: Callable, s3_app: Any, bucket: str) -> Any:
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        stream = get_input_stream(environ)
        size = 0
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            spool.write(chunk)
            size += len(chunk)
        spool.seek(0)
        # From here on the spool is the body: refusals drain it, moto reads it.
        environ["wsgi.input"] = spool
        environ["CONTENT_LENGTH"] = str(size)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        _, form, files = parse_form_data({**environ})
        fields = {name.lower(): value for name, value in form.items()}
        upload = files.get("file")
        file_size = 0
        if upload is not None:
            upload.stream.seek(0, 2)
            file_size = upload.stream.tell()
            upload.stream.seek(0)
        try:
            caller, key = self._check(fields, bucket, upload, file_size)
        except S3AuthError as err:
            return refuse(environ, start_response,
                          error_response(err.status, err.code, err.message, **err.extra))
        except _Refusal as refusal:
            return refuse(environ, start_response, refusal.response)
        refused = self.front.authorize(caller, "PUT", f"/{bucket}/{key}", {})
        if refused is not None:
            return refuse(environ, start_response, refused)
        spool.seek(0)
        return s3_app(environ, start_response)

    def _check(self, fields: dict[str, str], bucket: str, upload: Any, file_size: int) -> tuple[Any, str]:
        from .auth import Caller

        if upload is None:
            raise _Refusal(error_response(400, "InvalidArgument", "POST requires exactly one file upload "
                                          "per request.", ArgumentName="file", ArgumentValue="0"))
        key = fields.get("key", "")
        if not key:
            raise _Refusal(error_response(400, "InvalidArgument", "Bucket POST must contain a field "
                                          "named 'key'.  If it is specified, please check the order "
                                          "of the fields.", ArgumentName="key", ArgumentValue=""))
        key = key.replace("${filename}", upload.filename or "")
        policy_b64 = fields.get("policy")
        if not policy_b64:
            return Caller(), key  # anonymous: only a bucket policy for everyone lets it in
        if "x-amz-signature" in fields:
            credential = fields.get("x-amz-credential", "").split("/")
            if len(credential) != 5:
                raise _Refusal(error_response(400, "InvalidArgument", "Bucket POST must contain a valid "
                                              "x-amz-credential.", ArgumentName="x-amz-credential"))
            access_key, date, region, service, _ = credential
            secret, caller, record = lookup_key(access_key)
            check_token(record, fields.get("x-amz-security-token"), access_key)
            expected = hmac.new(sigv4_key(secret, date, region, service), policy_b64.encode(),
                                hashlib.sha256).hexdigest()
            provided = fields["x-amz-signature"]
        else:
            access_key = fields.get("awsaccesskeyid", "")
            secret, caller, record = lookup_key(access_key)
            check_token(record, fields.get("x-amz-security-token"), access_key)
            expected = base64.b64encode(hmac.new(secret.encode(), policy_b64.encode(),
                                                 hashlib.sha1).digest()).decode()
            provided = fields.get("signature", "")
        if not same_secret(expected, provided):
            raise _Refusal(error_response(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                "signature you provided. Check your key and signing method.",
                AWSAccessKeyId=access_key, StringToSign=policy_b64, SignatureProvided=provided))
        try:
            policy = json.loads(base64.b64decode(policy_b64))
            if not isinstance(policy, dict):
                raise ValueError("not an object")
        except (ValueError, TypeError):
            raise _Refusal(_invalid_policy("Invalid JSON.")) from None
        raw_expiration = policy.get("expiration")
        if raw_expiration is None:
            raise _Refusal(_invalid_policy("Policy missing expiration."))
        try:
            # S3 wants an ISO 8601 time in UTC (GMT), such as 2026-11-24T12:00:00.000Z.
            expiration = datetime.fromisoformat(str(raw_expiration).replace("Z", "+00:00"))
            if expiration.tzinfo is None:
                raise ValueError("no time zone")
        except ValueError:
            raise _Refusal(_invalid_policy(f"Invalid 'expiration' value: '{raw_expiration}'")) from None
        conditions = policy.get("conditions", [])
        if not isinstance(conditions, list):
            raise _Refusal(_invalid_policy("Invalid 'conditions' value: must be a list."))
        if datetime.now(timezone.utc) > expiration:
            raise _Refusal(error_response(403, "AccessDenied", "Invalid according to Policy: Policy expired."))
        check_token_expiry(record, fields.get("x-amz-security-token"))
        values = {**fields, "key": key, "bucket": bucket}
        covered = {"bucket"}
        for condition in conditions:
            covered |= self._check_condition(condition, values, file_size)
        extra = sorted(name for name in fields if name not in covered and name not in _EXEMPT
                       and not name.startswith("x-ignore-"))
        if extra:
            raise _Refusal(error_response(403, "AccessDenied", "Invalid according to Policy: Extra input "
                                          f"fields: {extra[0]}"))
        return caller, key

    @staticmethod
    def _check_condition(condition: Any, values: dict[str, str], file_size: int) -> set[str]:
        """Check one policy condition; returns the form fields it covers."""
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise _Refusal(error_response(400, "InvalidPolicyDocument", "Invalid Policy: Invalid "
                                              "Simple-Condition: Simple-Conditions must have exactly one "
                                              "property specified."))
            (name, expected), = condition.items()
            condition = ["eq", f"${name}", expected]
        if not isinstance(condition, list) or len(condition) != 3:
            raise _Refusal(_invalid_policy("Invalid Condition: conditions are objects with one "
                                           "property, or lists of three elements."))
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            try:
                low, high = int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                raise _Refusal(_invalid_policy("Invalid content-length-range condition: the bounds "
                                               "must be integers.")) from None
            if file_size > high:
                raise _Refusal(error_response(400, "EntityTooLarge", "Your proposed upload exceeds the "
                                              "maximum allowed size", ProposedSize=str(file_size),
                                              MaxSizeAllowed=str(high)))
            if file_size < low:
                raise _Refusal(error_response(400, "EntityTooSmall", "Your proposed upload is smaller "
                                              "than the minimum allowed size", ProposedSize=str(file_size),
                                              MinSizeAllowed=str(low)))
            return set()
        name = str(condition[1]).lstrip("$").lower()
        actual = values.get(name, "")
        expected = str(condition[2])
        holds = actual == expected if operator == "eq" else (
            actual.startswith(expected) if operator == "starts-with" else False)
        if not holds:
            raise _Refusal(_policy_failure([condition[0], condition[1], condition[2]]))
        return {name}


def _invalid_policy(why: str) -> S3Response:
    return error_response(400, "InvalidPolicyDocument", f"Invalid Policy: {why}")


class _Refusal(Exception):
    def __init__(self, response: S3Response) -> None:
        super().__init__(response.code)
        self.response = response
