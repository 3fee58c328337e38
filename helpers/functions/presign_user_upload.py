"""Presign an upload under the caller's own prefix: GET /upload/{object} -> a PUT URL for
``uploads/{sub}/{object}``.

The API's Cognito user pool authorizer has already verified the caller's token; API Gateway
passes its claims in the event as ``requestContext.authorizer.claims`` (a Lambda authorizer's
``principalId`` arrives as ``requestContext.authorizer.principalId``). The key is built from
the verified ``sub``, never from anything else the client sends, so one user cannot write over
another's files.

Configuration (environment variables): UPLOAD_BUCKET (required), URL_EXPIRES_SECONDS (default
300), KEY_PREFIX (default "uploads/").
"""
import json
import os
import re
from urllib.parse import unquote

import boto3
from botocore.config import Config

BUCKET = os.environ["UPLOAD_BUCKET"]
EXPIRES = int(os.environ.get("URL_EXPIRES_SECONDS", "300"))
KEY_PREFIX = os.environ.get("KEY_PREFIX", "uploads/")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
USER_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")

s3 = boto3.client("s3", config=Config(signature_version="s3v4"))


def _answer(status, payload):
    return {"statusCode": status,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps(payload)}


def _caller(event):
    """The verified user id: the Cognito token's ``sub``, or a Lambda authorizer's principalId."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    user = (authorizer.get("claims") or {}).get("sub") or authorizer.get("principalId")
    return user if user and USER_ID.match(user) else None


def handler(event, context):
    user = _caller(event)
    if user is None:  # only reachable when the method has no authorizer: refuse, never guess
        return _answer(403, {"message": "no verified caller: put an authorizer on this method"})
    name = unquote((event.get("pathParameters") or {}).get("object", ""))
    if not name or name.startswith("/") or ".." in name.split("/") or "\\" in name \
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return _answer(400, {"message": "the object name must be a plain relative name"})
    key = f"{KEY_PREFIX}{user}/{name}"
    if len(key.encode("utf-8")) > 1024:
        return _answer(400, {"message": "the object name is too long: S3 keys are at most 1,024 bytes"})
    query = event.get("queryStringParameters") or {}
    content_type = (query.get("contentType") or "application/octet-stream").lower()
    if not MEDIA_TYPE.match(content_type):
        return _answer(400, {"message": f"contentType {content_type!r} is not a media type like image/jpeg"})
    url = s3.generate_presigned_url("put_object", ExpiresIn=EXPIRES, HttpMethod="PUT",
                                    Params={"Bucket": BUCKET, "Key": key, "ContentType": content_type})
    print(json.dumps({"presigned": key, "user": user, "expiresIn": EXPIRES}))
    return _answer(200, {"url": url, "method": "PUT", "key": key,
                         "headers": {"Content-Type": content_type}, "expiresIn": EXPIRES})
