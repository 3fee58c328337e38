"""An upload API for large files: S3 multipart upload with presigned part URLs, behind API
Gateway (Lambda proxy integration). The file never passes through Lambda.

    POST   /uploads                    {"filename", "size", "contentType"}  -> start
    POST   /uploads/{id}/parts         {"key", "parts": [{"partNumber", "checksumSHA256"}]}
                                                                              -> presigned part URLs
    GET    /uploads/{id}/parts?key=... -> parts already uploaded (to resume)
    POST   /uploads/{id}/complete      {"key", "parts": [{"partNumber", "etag", "checksumSHA256"}]}
    DELETE /uploads/{id}?key=...       -> abort: S3 drops every uploaded part
    POST   /uploads/form               {"filename"} -> a presigned POST limited in size and key

The server chooses the key (uploads/<uuid>/<filename>) and the part size within S3's rules:
parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts, objects up to 5 TiB
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). Every part carries a
SHA-256 checksum that is signed into its URL, so S3 rejects a part whose bytes changed.

Configuration (environment variables): UPLOAD_BUCKET (required), PART_SIZE_BYTES (smallest part
size, default 8 MiB), URL_EXPIRES_SECONDS (default 900), MAX_POST_BYTES (default 10 MiB),
ALLOWED_ORIGIN (a web page's origin: the answers carry Access-Control-Allow-Origin for it, as
a proxy integration's function must add CORS headers itself; unset: none).
"""
import json
import math
import os
import re
import uuid
from urllib.parse import unquote

import boto3
from botocore.config import Config

BUCKET = os.environ["UPLOAD_BUCKET"]
MiB = 1024 * 1024
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10_000
MAX_OBJECT = 5 * 1024 * 1024 * MiB
PART_SIZE = max(MIN_PART, int(os.environ.get("PART_SIZE_BYTES", str(8 * MiB))))
EXPIRES = int(os.environ.get("URL_EXPIRES_SECONDS", "900"))
MAX_POST_BYTES = int(os.environ.get("MAX_POST_BYTES", str(10 * MiB)))
KEY_PREFIX = "uploads/"
KEY_PATTERN = re.compile(r"^uploads/[0-9a-f]{32}/[^/]{1,200}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
BATCH = 100
ALLOWED_ORIGIN = os.environ.get("ALLOWED_ORIGIN", "")

s3 = boto3.client("s3", config=Config(signature_version="s3v4"))


class BadRequest(Exception):
    pass


def _answer(status, payload=None):
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if ALLOWED_ORIGIN:
        headers.update({"Access-Control-Allow-Origin": ALLOWED_ORIGIN, "Vary": "Origin"})
    return {"statusCode": status, "headers": headers,
            "body": "" if payload is None else json.dumps(payload)}


def part_size_for(size):
    """The smallest allowed part size (a whole MiB) that fits ``size`` in 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS / MiB) * MiB
    return max(PART_SIZE, needed)


def _body(event):
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        raise BadRequest("the request body must be JSON")
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _filename(value):
    if not isinstance(value, str) or not value or len(value.encode()) > 200:
        raise BadRequest("filename must be 1 to 200 bytes")
    if "/" in value or "\\" in value or value in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadRequest("filename must be a plain name: no slashes, no control characters")
    return value


def _key(value):
    # Clients may only name keys this API handed out, never an arbitrary key in the bucket.
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise BadRequest("key must be the key returned when the upload started")
    return value


def start(event):
    body = _body(event)
    filename = _filename(body.get("filename"))
    size = body.get("size")
    if not isinstance(size, int) or size < 1:
        raise BadRequest("size must be a positive number of bytes")
    if size > MAX_OBJECT:
        raise BadRequest("size is over 5 TiB, the largest object S3 stores")
    content_type = str(body.get("contentType") or "application/octet-stream").lower()
    if not MEDIA_TYPE.match(content_type):
        raise BadRequest("contentType must be a media type like video/mp4")
    key = f"{KEY_PREFIX}{uuid.uuid4().hex}/{filename}"
    part_size = part_size_for(size)
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType=content_type,
                                        ChecksumAlgorithm="SHA256")
    print(json.dumps({"started": key, "size": size, "partSize": part_size}))
    return _answer(200, {"uploadId": upload["UploadId"], "key": key, "partSize": part_size,
                         "partCount": math.ceil(size / part_size)})


def part_urls(event, upload_id):
    body = _body(event)
    key = _key(body.get("key"))
    parts = body.get("parts")
    if not isinstance(parts, list) or not 1 <= len(parts) <= BATCH:
        raise BadRequest(f"parts must list 1 to {BATCH} parts")
    urls = []
    for part in parts:
        number = part.get("partNumber") if isinstance(part, dict) else None
        checksum = part.get("checksumSHA256") if isinstance(part, dict) else None
        if not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
            raise BadRequest("partNumber must be an integer from 1 to 10000")
        if not isinstance(checksum, str) or not re.fullmatch(r"[A-Za-z0-9+/]{43}=", checksum):
            raise BadRequest("checksumSHA256 must be the base64 SHA-256 of the part")
        # The checksum becomes a signed header: S3 verifies the bytes against it.
        url = s3.generate_presigned_url(
            "upload_part", ExpiresIn=EXPIRES, HttpMethod="PUT",
            Params={"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "PartNumber": number,
                    "ChecksumSHA256": checksum})
        urls.append({"partNumber": number, "url": url, "method": "PUT",
                     "headers": {"x-amz-checksum-sha256": checksum}})
    return _answer(200, {"parts": urls, "expiresIn": EXPIRES})


def list_parts(event, upload_id):
    key = _key((event.get("queryStringParameters") or {}).get("key"))
    parts, marker = [], 0
    while True:
        page = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumberMarker=marker)
        parts += [{"partNumber": p["PartNumber"], "etag": p["ETag"], "size": p["Size"],
                   "checksumSHA256": p.get("ChecksumSHA256")} for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            break
        marker = page["NextPartNumberMarker"]
    return _answer(200, {"parts": parts})


def complete(event, upload_id):
    body = _body(event)
    key = _key(body.get("key"))
    parts = body.get("parts")
    if not isinstance(parts, list) or not parts:
        raise BadRequest("parts must list every uploaded part with its etag")
    listed = []
    for part in parts:
        # Checked here so that a malformed list is the client's 400, not a handler crash.
        if not isinstance(part, dict) or type(part.get("partNumber")) is not int \
                or not isinstance(part.get("etag"), str) or not part["etag"] \
                or not isinstance(part.get("checksumSHA256", ""), str):
            raise BadRequest("each part needs an integer partNumber and a string etag")
        if not 1 <= part["partNumber"] <= 10000:
            raise BadRequest("partNumber must be between 1 and 10000")
        entry = {"PartNumber": part["partNumber"], "ETag": part["etag"]}
        if part.get("checksumSHA256"):
            entry["ChecksumSHA256"] = part["checksumSHA256"]
        listed.append(entry)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": listed})
    print(json.dumps({"completed": key, "parts": len(listed)}))
    return _answer(200, {"key": key, "etag": done["ETag"], "checksumSHA256": done.get("ChecksumSHA256")})


def abort(event, upload_id):
    key = _key((event.get("queryStringParameters") or {}).get("key"))
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    print(json.dumps({"aborted": key}))
    return _answer(204)


def form(event):
    body = _body(event)
    filename = _filename(body.get("filename"))
    prefix = f"{KEY_PREFIX}{uuid.uuid4().hex}/"
    # The policy, signed by this function's role, is what limits the browser: S3 refuses a
    # file over MAX_POST_BYTES or a key outside the prefix.
    post = s3.generate_presigned_post(
        BUCKET, prefix + filename, ExpiresIn=EXPIRES,
        Conditions=[["content-length-range", 1, MAX_POST_BYTES], ["starts-with", "$key", prefix]])
    return _answer(200, {"url": post["url"], "fields": post["fields"], "maxBytes": MAX_POST_BYTES,
                         "expiresIn": EXPIRES})


def handler(event, context):
    method = event.get("httpMethod")
    # REST APIs pass path parameters still percent-encoded: decode once before splitting.
    proxy = unquote((event.get("pathParameters") or {}).get("proxy", ""))
    upload_id, rest = proxy.split("/")[0], proxy.split("/")[1:]
    try:
        if event.get("resource") == "/uploads" and method == "POST":
            return start(event)
        if upload_id == "form" and not rest and method == "POST":
            return form(event)
        if rest == ["parts"] and method == "POST":
            return part_urls(event, upload_id)
        if rest == ["parts"] and method == "GET":
            return list_parts(event, upload_id)
        if rest == ["complete"] and method == "POST":
            return complete(event, upload_id)
        if not rest and upload_id and method == "DELETE":
            return abort(event, upload_id)
        return _answer(404, {"message": f"no route for {method} {event.get('path')}"})
    except BadRequest as err:
        return _answer(400, {"message": str(err)})
    except s3.exceptions.NoSuchUpload:
        return _answer(404, {"message": "no such upload: it was completed or aborted, or never started"})
    except s3.exceptions.ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall", "BadDigest"):
            return _answer(400, {"message": error.get("Message"), "code": error.get("Code")})
        raise
