"""Presign an S3 upload: GET /upload/{object}?contentType=image/jpeg -> a short-lived PUT URL.

API Gateway (Lambda proxy integration) calls ``handler`` with the request as the event. The
function never sees the file: it signs a URL with its own role's credentials (which must allow
s3:PutObject), and the client then PUTs the file straight to S3, up to 5 GB.

Configuration (environment variables): UPLOAD_BUCKET (required), URL_EXPIRES_SECONDS (default
300), KEY_PREFIX (default "uploads/"), ALLOWED_ORIGIN (a web page's origin, e.g.
https://app.example.com: with a proxy integration the function's answer is the response, so
the function itself adds Access-Control-Allow-Origin for that page; unset: no CORS header).
"""
import json
import os
import re
from urllib.parse import unquote

import boto3
from botocore.config import Config

BUCKET = os.environ["UPLOAD_BUCKET"]
# An integer number of seconds: boto3 signs X-Amz-Expires from it (a string like "3600" is a
# classic bug: it fails inside botocore, not here).
EXPIRES = int(os.environ.get("URL_EXPIRES_SECONDS", "300"))
KEY_PREFIX = os.environ.get("KEY_PREFIX", "uploads/")
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")

# Created once per execution environment and reused while it stays warm. SigV4 is required for
# presigned URLs to buckets in newer regions and for KMS-encrypted objects.
s3 = boto3.client("s3", config=Config(signature_version="s3v4"))


def _answer(status, payload):
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if ALLOWED_ORIGIN:  # one page's origin, never "*": other sites' pages may not read the URL
        headers.update({"Access-Control-Allow-Origin": ALLOWED_ORIGIN, "Vary": "Origin"})
    return {"statusCode": status, "headers": headers, "body": json.dumps(payload)}


def _check_name(name):
    """The object name the client asked for, or the reason it cannot be used."""
    if not name:
        return "the object name is missing: call GET /upload/{object}"
    if len((KEY_PREFIX + name).encode("utf-8")) > 1024:
        return "the object name is too long: S3 keys are at most 1,024 bytes"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the object name contains control characters"
    if name.startswith("/") or ".." in name.split("/") or "\\" in name:
        return "the object name must be a plain relative name (no leading '/', '..' or '\\')"
    return None


def handler(event, context):
    # REST APIs pass path parameters still percent-encoded, as the client sent them
    # ("my%20photo.jpg"): decode once, then check the name the key will really hold.
    name = unquote((event.get("pathParameters") or {}).get("object", ""))
    problem = _check_name(name)
    if problem:
        return _answer(400, {"message": problem})
    query = event.get("queryStringParameters") or {}
    content_type = (query.get("contentType") or "application/octet-stream").lower()
    if not MEDIA_TYPE.match(content_type):
        return _answer(400, {"message": f"contentType {content_type!r} is not a media type like image/jpeg"})
    key = KEY_PREFIX + name
    # The Content-Type becomes part of the signature: the upload must send exactly this header.
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": BUCKET, "Key": key, "ContentType": content_type},
        ExpiresIn=EXPIRES,
        HttpMethod="PUT",
    )
    print(json.dumps({"presigned": key, "contentType": content_type, "expiresIn": EXPIRES}))
    return _answer(200, {"url": url, "method": "PUT", "key": key,
                         "headers": {"Content-Type": content_type}, "expiresIn": EXPIRES})
