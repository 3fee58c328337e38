"""Bad inputs on every upload path, table-driven: each case is a named request with AWS's status
and error code, and after it nothing is left in the buckets (no object, no part, no upload).

Paths: option 1 direct proxy (API Gateway -> S3), option 2 presigned PUT (grant API + S3),
multipart (upload API + presigned part URLs + S3), presigned POST, option 3 CloudFront (shared
secret and JWT edge functions).

AWS's answers cited in the cases:
S3ERR  https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
SIGV4  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
SIGV2  https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html#RESTAuthenticationQueryStringAuth
POST   https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
MPU    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
PART   https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
KEYS   https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html (at most 1,024 bytes)
APIGW  https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
       and .../api-gateway-execution-service-limits-table.html (10 MB payload),
       .../api-gateway-api-usage-plans.html (x-api-key: 403 Forbidden)
CF     https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses-in-requests.html
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote

import boto3
import jwt
import pytest
import requests
from botocore.config import Config

import helpers as wb

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")  # HS512 with the HS256 key, on purpose

MiB = 1024 * 1024
SECRET = "bad-inputs shared secret"
JWT_KEY = "bad-inputs-signing-key-of-32-bytes!!"
REGION = "us-east-1"


@dataclass
class Paths:
    target: Any
    endpoint: str
    proxy: Any
    presign: Any
    multipart: Any
    cloudfront: Any
    cloudfront_jwt: Any
    user_keys: dict
    inactive_keys: dict
    expired: dict = field(default_factory=dict)
    cleanups: list = field(default_factory=list)

    @property
    def s3(self):
        return self.target.client("s3")

    @property
    def buckets(self):
        return [self.proxy.bucket, self.presign.bucket, self.multipart.bucket,
                self.cloudfront.bucket, self.cloudfront_jwt.bucket]

    def signer(self, access_key="test", secret="test", signature_version="s3v4"):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=access_key, aws_secret_access_key=secret,
                            config=Config(signature_version=signature_version,
                                          s3={"addressing_style": "path"},
                                          request_checksum_calculation="when_required",
                                          response_checksum_validation="when_required"))

    def presigned_put(self, key, *, bucket=None, content_type="application/octet-stream", expires=300,
                      **signer):
        return self.signer(**signer).generate_presigned_url(
            "put_object", Params={"Bucket": bucket or self.presign.bucket, "Key": key,
                                  "ContentType": content_type},
            ExpiresIn=expires, HttpMethod="PUT")

    def start_upload(self, key):
        """A multipart upload made with the SDK (as the root), aborted after the case."""
        upload_id = self.s3.create_multipart_upload(Bucket=self.multipart.bucket, Key=key)["UploadId"]
        self.cleanups.append(lambda: self.s3.abort_multipart_upload(
            Bucket=self.multipart.bucket, Key=key, UploadId=upload_id))
        return upload_id

    def api_upload(self, filename="f.bin", size=6 * MiB):
        """A multipart upload started through the upload API (aborted after the case)."""
        started = requests.post(f"{self.multipart.invoke_url}/uploads",
                                json={"filename": filename, "size": size}).json()
        self.cleanups.append(lambda: requests.delete(
            f"{self.multipart.invoke_url}/uploads/{started['uploadId']}", params={"key": started["key"]}))
        return started

    def api_part(self, started, number, data):
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        grant = requests.post(f"{self.multipart.invoke_url}/uploads/{started['uploadId']}/parts",
                              json={"key": started["key"],
                                    "parts": [{"partNumber": number, "checksumSHA256": checksum}]}).json()
        part = grant["parts"][0]
        return part, checksum

    def post_form(self, filename="note.txt"):
        return wb.request_post_form(self.multipart.invoke_url, filename)

    def signed_policy_form(self, key, conditions, expiration, access_key="test", secret="test"):
        """A presigned POST form with our own policy document, signed (SigV4) by ``access_key``."""
        date = time.strftime("%Y%m%d", time.gmtime())
        credential = f"{access_key}/{date}/{REGION}/s3/aws4_request"
        fields = {"key": key, "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential,
                  "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}
        policy = {"expiration": expiration, "conditions": conditions}
        policy_b64 = base64.b64encode(json.dumps(policy).encode()).decode()
        signing_key = ("AWS4" + secret).encode()
        for part in (date, REGION, "s3", "aws4_request"):
            signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
        fields["policy"] = policy_b64
        fields["x-amz-signature"] = hmac.new(signing_key, policy_b64.encode(), hashlib.sha256).hexdigest()
        return {"url": f"{self.endpoint}/{self.multipart.bucket}", "fields": fields}


def post(form, data=b"hello", *, fields=None, with_file=True):
    files = {"file": ("note.txt", data, "text/plain")} if with_file else None
    sent = {**form["fields"], **(fields or {})}
    if not with_file:  # still a multipart/form-data body, only without the file
        return requests.post(form["url"], files={k: (None, v) for k, v in sent.items()})
    return requests.post(form["url"], data=sent, files=files)


def bearer(key=JWT_KEY, algorithm="HS256", **claims):
    payload = {"sub": "learner", "scope": "upload", "exp": int(time.time()) + 300, **claims}
    return "Bearer " + jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm)


@pytest.fixture(scope="module")
def paths(local_aws):
    target = wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)
    prefixes = [wb.unique_prefix() for _ in range(5)]
    iam = target.client("iam")
    users = []
    try:
        proxy = wb.build_s3_proxy_api(target, prefixes[0])
        presign = wb.build_presign_api(target, prefixes[1])
        multipart = wb.build_multipart_api(target, prefixes[2], part_size=5 * MiB, max_post_bytes=64 * 1024)
        cloudfront = wb.build_cloudfront_upload(target, prefixes[3], secret=SECRET)
        cloudfront_jwt = wb.build_cloudfront_upload(target, prefixes[4], secret=JWT_KEY, module="edge_jwt")
        keys = {}
        for state in ("active", "inactive", "putonly"):
            user = f"{prefixes[0]}-{state}"
            iam.create_user(UserName=user)
            users.append(user)
            statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"} if state != "putonly" else {
                "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{presign.bucket}/*"}
            iam.put_user_policy(UserName=user, PolicyName="put", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [statement]}))
            created = iam.create_access_key(UserName=user)["AccessKey"]
            keys[state] = {"access_key": created["AccessKeyId"], "secret": created["SecretAccessKey"]}
            if state == "inactive":
                iam.update_access_key(UserName=user, AccessKeyId=created["AccessKeyId"], Status="Inactive")
        built = Paths(target, local_aws.endpoint_url, proxy, presign, multipart, cloudfront, cloudfront_jwt,
                      keys["active"], keys["inactive"])
        built.put_only_keys = keys["putonly"]
        # Expired in a second: signed now, used by the cases later (after a wait if need be).
        built.expired = {
            "made": time.time(),
            "put": built.presigned_put("uploads/expired.bin", expires=1),
            "put_v2": built.presigned_put("uploads/expired-v2.bin", expires=1, signature_version="s3"),
        }
        yield built
    finally:
        for user in users:
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.delete_user_policy(UserName=user, PolicyName="put")
            iam.delete_user(UserName=user)
        for prefix in prefixes:
            wb.clean_up(target, prefix)


def wait_expired(p):
    left = p.expired["made"] + 1.2 - time.time()
    if left > 0:
        time.sleep(left)


# --- what a case sends ------------------------------------------------------------------------

def proxy_put(key, data=b"x" * 100, *, api_key=True, headers=None, method="PUT", url=None):
    def send(p):
        h = {"Content-Type": "application/octet-stream", **(headers or {})}
        if api_key is True:
            h["x-api-key"] = p.proxy.api_key
        elif api_key:
            h["x-api-key"] = api_key
        return requests.request(method, url(p) if url else p.proxy.upload_url(key), data=data, headers=h)
    return send


def grant(name, content_type="text/plain", method="GET"):
    def send(p):
        return requests.request(method, f"{p.presign.invoke_url}/upload/{name}",
                                params={"contentType": content_type})
    return send


def presigned(change: Callable[[str, Any], tuple[str, dict, Any]], key="uploads/case.bin", **signer):
    """PUT to a presigned URL that ``change`` spoils: change(url, p) -> (url, headers, method)."""
    def send(p):
        url = p.presigned_put(key, **signer)
        url, headers, method = change(url, p)
        return requests.request(method, url, data=b"payload", headers=headers)
    return send


OCTET = {"Content-Type": "application/octet-stream"}


def tamper_signature(url, p):
    return re.sub(r"(X-Amz-Signature=[0-9a-f]+)[0-9a-f]", lambda m: m.group(1) + ("0" if m.group(0)[-1] != "0" else "1"),
                  url), OCTET, "PUT"


def other_object(url, p):
    return url.replace("uploads/case.bin", "uploads/other.bin"), OCTET, "PUT"


def other_access_key(url, p):
    return url.replace("test%2F", p.user_keys["access_key"] + "%2F", 1), OCTET, "PUT"


def api_post(route, *, json_body=None, data=None, method="POST", params=None):
    def send(p):
        url = f"{p.multipart.invoke_url}{route(p) if callable(route) else route}"
        return requests.request(method, url, json=json_body(p) if callable(json_body) else json_body,
                                data=data, params=params(p) if callable(params) else params)
    return send


FAKE_KEY = "uploads/" + "0" * 32 + "/f.bin"


def complete_via_api(parts_for):
    """Start an upload through the API, upload a 6 MiB part 1 and a 1-byte part 2, then complete
    with the parts ``parts_for(etags, checksums)`` lists."""
    def send(p):
        started = p.api_upload(size=6 * MiB + 1)
        etags, checksums = {}, {}
        for number, data in ((1, b"a" * (6 * MiB)), (2, b"b")):
            part, checksum = p.api_part(started, number, data)
            answer = requests.put(part["url"], data=data, headers=part["headers"])
            assert answer.status_code == 200, answer.text
            etags[number], checksums[number] = answer.headers["ETag"], checksum
        response = requests.post(f"{p.multipart.invoke_url}/uploads/{started['uploadId']}/complete",
                                 json={"key": started["key"], "parts": parts_for(etags, checksums)})
        # A refused Complete leaves the upload and its parts, so the client can try again (MPU).
        listed = p.s3.list_parts(Bucket=p.multipart.bucket, Key=started["key"], UploadId=started["uploadId"])
        assert len(listed.get("Parts", [])) == 2
        assert "Contents" not in p.s3.list_objects_v2(Bucket=p.multipart.bucket, Prefix=started["key"])
        return response
    return send


def sdk_part(number):
    def send(p):
        upload_id = p.start_upload("sdk/part.bin")
        url = p.s3.generate_presigned_url("upload_part", Params={
            "Bucket": p.multipart.bucket, "Key": "sdk/part.bin", "UploadId": upload_id, "PartNumber": number},
            HttpMethod="PUT")
        return requests.put(url, data=b"part")
    return send


def sdk_complete(xml_parts, upload_parts=()):
    """Complete an SDK-started upload with a raw XML body (what a hand-made client might send)."""
    def send(p):
        key = "sdk/complete.bin"
        upload_id = p.start_upload(key)
        etags = {}
        for number, data in upload_parts:
            etags[number] = p.s3.upload_part(Bucket=p.multipart.bucket, Key=key, UploadId=upload_id,
                                             PartNumber=number, Body=data)["ETag"]
        url = p.s3.generate_presigned_url("complete_multipart_upload", Params={
            "Bucket": p.multipart.bucket, "Key": key, "UploadId": upload_id}, HttpMethod="POST")
        body = "<CompleteMultipartUpload>" + xml_parts(etags) + "</CompleteMultipartUpload>"
        return requests.post(url, data=body.encode())
    return send


def part_xml(number, etag):
    return f"<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"


def tampered_part(p):
    started = p.api_upload()
    part, _ = p.api_part(started, 1, b"a" * 100)
    return requests.put(part["url"], data=b"b" * 100, headers=part["headers"])


def part_as_other_number(p):
    started = p.api_upload()
    part, _ = p.api_part(started, 1, b"a" * 100)
    return requests.put(part["url"].replace("partNumber=1&", "partNumber=2&"), data=b"a" * 100,
                        headers=part["headers"])


def form_post(data=b"hello", fields=None, with_file=True, form=None):
    def send(p):
        return post(form(p) if form else p.post_form(), data, fields=fields, with_file=with_file)
    return send


def tampered_policy(p):
    form = p.post_form()
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    form["fields"]["policy"] = base64.b64encode(json.dumps(policy).encode()).decode()
    return post(form, b"x")


def future(hours=1):
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def own_policy(conditions, expiration=None, key="posts/own.txt", **signer):
    def make(p):
        return p.signed_policy_form(key, [{"bucket": p.multipart.bucket}, ["starts-with", "$key", "posts/"],
                                          *conditions], expiration or future(), **signer)
    return make


def cf_put(key="case.bin", *, authorization=SECRET, method="PUT", jwt_site=False, headers=None):
    def send(p):
        site = p.cloudfront_jwt if jwt_site else p.cloudfront
        h = dict(headers or {})
        if authorization is not None:
            h["Authorization"] = authorization(p) if callable(authorization) else authorization
        return requests.request(method, f"{site.url}/{key}",
                                data=b"payload", headers=h)
    return send


def jwt_put(token):
    return cf_put(authorization=lambda p: token() if callable(token) else token, jwt_site=True)


# --- the table ----------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    path: str
    send: Callable[[Paths], requests.Response]
    status: int
    code: str  # S3's <Code>, the upload API's "code" or "message", API Gateway's "message", or the text
    doc: str = ""
    before: Callable[[Paths], None] | None = None


MAT = "Missing Authentication Token"
NOT_PLAIN = "the object name must be a plain relative name (no leading '/', '..' or '\\')"
BAD_FILENAME = "filename must be a plain name: no slashes, no control characters"
SIG = "SignatureDoesNotMatch"
UNAUTHORIZED = "Unauthorized"
BAD_PARTNUMBER = "partNumber must be an integer from 1 to 10000"
INVALID_PART = "InvalidPart"
LONG_NAME = "k" * 1030

CASES = [
    # --- option 1: API Gateway as a direct S3 proxy ---------------------------------------------
    Case("proxy_body_over_10_MB", "proxy", proxy_put("big.bin", b"\0" * (10 * MiB + 1)), 413,
         "HTTP content length exceeded 10485760 bytes.", "APIGW quotas: 10 MB payload"),
    Case("proxy_chunked_body_over_10_MB", "proxy",
         proxy_put("chunked.bin", (b"\0" * MiB for _ in range(11))), 413,
         "HTTP content length exceeded 10485760 bytes.", "APIGW quotas: 10 MB payload"),
    Case("proxy_missing_api_key", "proxy", proxy_put("nokey.bin", api_key=None), 403, "Forbidden",
         "APIGW usage plans"),
    Case("proxy_wrong_api_key", "proxy", proxy_put("wrongkey.bin", api_key="x" * 40), 403, "Forbidden",
         "APIGW usage plans"),
    Case("proxy_wrong_method_GET", "proxy", proxy_put("get.bin", method="GET", data=None), 403, MAT,
         "APIGW: no method on the resource"),
    Case("proxy_wrong_method_POST", "proxy", proxy_put("post.bin", method="POST"), 403, MAT,
         "APIGW: no method on the resource"),
    Case("proxy_unknown_stage", "proxy",
         proxy_put("stage.bin", url=lambda p: p.proxy.upload_url("stage.bin").replace("/v1/", "/v9/")), 403, MAT,
         "APIGW: unknown stage"),
    Case("proxy_unknown_resource", "proxy",
         proxy_put("r.bin", url=lambda p: p.proxy.upload_url("r.bin").replace("/upload/", "/uploads/")), 403, MAT,
         "APIGW: no such resource"),
    Case("proxy_missing_object_name", "proxy",
         proxy_put("", url=lambda p: p.proxy.invoke_url + "/upload/"), 403, MAT,
         "APIGW: /upload has no PUT"),
    Case("proxy_leading_slash_extra_segment", "proxy",
         proxy_put("", url=lambda p: p.proxy.invoke_url + "/upload//etc/passwd"), 403, MAT,
         "APIGW: {object} matches one path segment"),
    # --- option 2: the grant API (Lambda) ---------------------------------------------------------
    Case("grant_key_with_dotdot", "presign", grant(quote("../secret.txt", safe="")), 400, NOT_PLAIN),
    Case("grant_key_with_leading_slash", "presign", grant(quote("/etc/passwd", safe="")), 400, NOT_PLAIN),
    Case("grant_key_with_percent_encoded_separator", "presign", grant("a%2F..%2F..%2Fb"), 400, NOT_PLAIN),
    Case("grant_key_with_backslash", "presign", grant(quote("a\\..\\b", safe="")), 400, NOT_PLAIN),
    Case("grant_key_with_control_character", "presign", grant("a%01b"), 400,
         "the object name contains control characters"),
    Case("grant_key_over_1024_bytes", "presign", grant(LONG_NAME), 400,
         "the object name is too long: S3 keys are at most 1,024 bytes", "KEYS"),
    Case("grant_bad_content_type", "presign", grant("a.txt", content_type="text"), 400,
         "contentType 'text' is not a media type like image/jpeg"),
    Case("grant_wrong_method", "presign", grant("a.txt", method="POST"), 403, MAT, "APIGW"),
    # --- option 2: the presigned PUT at S3 --------------------------------------------------------
    Case("presigned_wrong_content_type", "presign",
         presigned(lambda u, p: (u, {"Content-Type": "text/html"}, "PUT")), 403, SIG, "SIGV4"),
    Case("presigned_missing_signed_content_type", "presign",
         presigned(lambda u, p: (u, {"Content-Type": ""}, "PUT")), 403, SIG, "SIGV4"),
    Case("presigned_extra_unsigned_amz_header", "presign",
         presigned(lambda u, p: (u, {**OCTET, "x-amz-meta-owner": "mallory"}, "PUT")), 403, "AccessDenied",
         "SIGV4: x-amz-* headers must be signed (HeadersNotSigned)"),
    Case("presigned_copy_source_header_unsigned", "presign",
         presigned(lambda u, p: (u, {**OCTET, "x-amz-copy-source": f"{p.proxy.bucket}/x"}, "PUT")), 403,
         "AccessDenied", "SIGV4: HeadersNotSigned"),
    Case("presigned_tampered_signature", "presign", presigned(tamper_signature), 403, SIG, "SIGV4"),
    Case("presigned_url_replayed_for_other_key", "presign", presigned(other_object), 403, SIG, "SIGV4"),
    Case("presigned_url_replayed_with_other_access_key", "presign", presigned(other_access_key), 403, SIG,
         "SIGV4"),
    Case("presigned_wrong_method_DELETE", "presign", presigned(lambda u, p: (u, OCTET, "DELETE")), 403, SIG,
         "SIGV4: the method is signed"),
    Case("presigned_unknown_access_key", "presign",
         presigned(lambda u, p: (u, OCTET, "PUT"), access_key="AKIAUNKNOWNKEY000000", secret="x"), 403,
         "InvalidAccessKeyId", "S3ERR InvalidAccessKeyId"),
    Case("presigned_inactive_access_key", "presign",
         presigned(lambda u, p: (u, OCTET, "PUT"), access_key=None, secret=None), 403, "InvalidAccessKeyId",
         "S3ERR InvalidAccessKeyId"),
    Case("presigned_expired", "presign",
         lambda p: (wait_expired(p), requests.put(p.expired["put"], data=b"x", headers=OCTET))[1], 403,
         "AccessDenied", "SIGV4: Request has expired"),
    Case("presigned_v2_expired", "presign",
         lambda p: (wait_expired(p), requests.put(p.expired["put_v2"], data=b"x", headers=OCTET))[1], 403,
         "AccessDenied", "SIGV2"),
    Case("presigned_v2_tampered_signature", "presign",
         presigned(lambda u, p: (u.replace("Signature=", "Signature=AA"), OCTET, "PUT"), signature_version="s3"),
         403, SIG, "SIGV2"),
    Case("presigned_expires_over_a_week", "presign",
         presigned(lambda u, p: (re.sub(r"X-Amz-Expires=\d+", "X-Amz-Expires=604801", u), OCTET, "PUT")), 400,
         "AuthorizationQueryParametersError", "SIGV4: X-Amz-Expires at most 604800"),
    Case("presigned_malformed_credential", "presign",
         presigned(lambda u, p: (re.sub(r"X-Amz-Credential=[^&]+", "X-Amz-Credential=test", u), OCTET, "PUT")),
         400, "AuthorizationQueryParametersError", "SIGV4"),
    Case("presigned_wrong_algorithm", "presign",
         presigned(lambda u, p: (u.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), OCTET, "PUT")), 400,
         "AuthorizationQueryParametersError", "SIGV4: X-Amz-Algorithm"),
    Case("anonymous_put_without_signature", "presign",
         lambda p: requests.put(f"{p.endpoint}/{p.presign.bucket}/uploads/anon.bin", data=b"x"), 403,
         "AccessDenied", "S3ERR AccessDenied"),
    Case("header_signed_inactive_access_key", "presign",
         lambda p: requests.put(f"{p.endpoint}/{p.presign.bucket}/uploads/inactive.bin", data=b"x", headers={
             "Authorization": f"AWS4-HMAC-SHA256 Credential={p.inactive_keys['access_key']}/20260101/us-east-1/s3/"
                              "aws4_request, SignedHeaders=host, Signature=" + "0" * 64,
             "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
             "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}), 403, "InvalidAccessKeyId",
         "S3ERR InvalidAccessKeyId (known bug 2)"),
    # --- multipart: the upload API (Lambda) -----------------------------------------------------
    Case("mp_start_malformed_json", "multipart", api_post("/uploads", data="{not json"), 400,
         "the request body must be JSON"),
    Case("mp_start_json_not_an_object", "multipart", api_post("/uploads", json_body=[1, 2]), 400,
         "the request body must be a JSON object"),
    Case("mp_start_filename_dotdot", "multipart", api_post("/uploads", json_body={"filename": "..", "size": 9}),
         400, BAD_FILENAME),
    Case("mp_start_filename_leading_slash", "multipart",
         api_post("/uploads", json_body={"filename": "/etc/passwd", "size": 9}), 400, BAD_FILENAME),
    Case("mp_start_filename_control_character", "multipart",
         api_post("/uploads", json_body={"filename": "a\x00b", "size": 9}), 400, BAD_FILENAME),
    Case("mp_start_filename_over_1024_bytes", "multipart",
         api_post("/uploads", json_body={"filename": LONG_NAME, "size": 9}), 400, "filename must be 1 to 200 bytes",
         "KEYS"),
    Case("mp_start_size_zero", "multipart", api_post("/uploads", json_body={"filename": "a", "size": 0}), 400,
         "size must be a positive number of bytes"),
    Case("mp_start_size_over_5_TiB", "multipart",
         api_post("/uploads", json_body={"filename": "a", "size": 5 * 1024 ** 4 + 1}), 400,
         "size is over 5 TiB, the largest object S3 stores"),
    Case("mp_percent_encoded_separator_in_upload_id", "multipart",
         api_post("/uploads/x%2F..%2Fform", json_body={"filename": "a"}), 404,
         # the event's path is as the client sent it (REST APIs keep percent-encoding)
         "no route for POST /uploads/x%2F..%2Fform"),
    Case("mp_part_number_zero", "multipart", api_post("/uploads/u/parts", json_body={
        "key": FAKE_KEY, "parts": [{"partNumber": 0, "checksumSHA256": "A" * 43 + "="}]}), 400, BAD_PARTNUMBER,
         "PART: 1 to 10,000"),
    Case("mp_part_number_10001", "multipart", api_post("/uploads/u/parts", json_body={
        "key": FAKE_KEY, "parts": [{"partNumber": 10001, "checksumSHA256": "A" * 43 + "="}]}), 400, BAD_PARTNUMBER,
         "PART: 1 to 10,000"),
    Case("mp_parts_for_a_key_not_handed_out", "multipart", api_post("/uploads/u/parts", json_body={
        "key": "uploads/../../other", "parts": [{"partNumber": 1, "checksumSHA256": "A" * 43 + "="}]}), 400,
         "key must be the key returned when the upload started"),
    Case("mp_abort_key_with_dotdot", "multipart",
         api_post("/uploads/u", method="DELETE", params={"key": "../../etc"}), 400,
         "key must be the key returned when the upload started"),
    Case("mp_complete_unknown_upload", "multipart", api_post("/uploads/nosuchupload/complete", json_body={
        "key": FAKE_KEY, "parts": [{"partNumber": 1, "etag": '"x"'}]}), 404,
         "no such upload: it was completed or aborted, or never started", "S3ERR NoSuchUpload"),
    Case("mp_complete_no_parts", "multipart", api_post("/uploads/u/complete", json_body={"key": FAKE_KEY, "parts": []}),
         400, "parts must list every uploaded part with its etag"),
    Case("mp_complete_wrong_etag", "multipart",
         complete_via_api(lambda e, c: [{"partNumber": 1, "etag": '"' + "0" * 32 + '"', "checksumSHA256": c[1]},
                                        {"partNumber": 2, "etag": e[2], "checksumSHA256": c[2]}]), 400, INVALID_PART,
         "MPU InvalidPart"),
    Case("mp_complete_part_never_uploaded", "multipart",
         complete_via_api(lambda e, c: [{"partNumber": 1, "etag": e[1], "checksumSHA256": c[1]},
                                        {"partNumber": 3, "etag": e[2]}]), 400, INVALID_PART, "MPU InvalidPart"),
    Case("mp_complete_parts_out_of_order", "multipart",
         complete_via_api(lambda e, c: [{"partNumber": 2, "etag": e[2], "checksumSHA256": c[2]},
                                        {"partNumber": 1, "etag": e[1], "checksumSHA256": c[1]}]), 400,
         "InvalidPartOrder", "MPU InvalidPartOrder"),
    Case("mp_complete_wrong_part_checksum", "multipart",
         complete_via_api(lambda e, c: [{"partNumber": 1, "etag": e[1], "checksumSHA256": c[2]},
                                        {"partNumber": 2, "etag": e[2], "checksumSHA256": c[2]}]), 400, INVALID_PART,
         "MPU InvalidPart (checksum)"),
    Case("mp_complete_non_integer_part_number", "multipart",
         complete_via_api(lambda e, c: [{"partNumber": "one", "etag": e[1]}, {"partNumber": 2, "etag": e[2]}]), 400,
         "each part needs an integer partNumber and a string etag", "known bug 11: complete does not validate parts"),
    # --- multipart: S3 --------------------------------------------------------------------------
    Case("mp_part_body_differs_from_signed_checksum", "multipart", tampered_part, 400, "BadDigest",
         "S3ERR BadDigest"),
    Case("mp_part_url_replayed_as_other_part_number", "multipart", part_as_other_number, 403, SIG, "SIGV4"),
    Case("mp_part_number_0_at_s3", "multipart", sdk_part(0), 400, "InvalidArgument", "PART: 1 to 10,000"),
    Case("mp_part_number_10001_at_s3", "multipart", sdk_part(10001), 400, "InvalidArgument", "PART: 1 to 10,000"),
    Case("mp_part_for_unknown_upload", "multipart",
         lambda p: requests.put(p.s3.generate_presigned_url("upload_part", Params={
             "Bucket": p.multipart.bucket, "Key": "sdk/x.bin", "UploadId": "nosuchupload", "PartNumber": 1},
             HttpMethod="PUT"), data=b"x"), 404, "NoSuchUpload", "S3ERR NoSuchUpload"),
    Case("mp_complete_parts_under_5_MiB", "multipart",
         sdk_complete(lambda e: part_xml(1, e[1]) + part_xml(2, e[2]), [(1, b"a"), (2, b"b")]), 400,
         "EntityTooSmall", "MPU EntityTooSmall"),
    Case("mp_complete_malformed_xml", "multipart", sdk_complete(lambda e: "<Part><PartNumber>1"), 400,
         "MalformedXML", "MPU MalformedXML"),
    Case("mp_complete_non_integer_part_number_xml", "multipart",
         sdk_complete(lambda e: part_xml("x", e[1]), [(1, b"a")]), 400, "MalformedXML",
         "MPU MalformedXML (known bug 6)"),
    # --- presigned POST ---------------------------------------------------------------------------
    Case("post_file_over_content_length_range", "post", form_post(b"x" * (64 * 1024 + 1)), 400, "EntityTooLarge",
         "POST content-length-range"),
    Case("post_empty_file_under_content_length_range", "post", form_post(b""), 400, "EntityTooSmall",
         "POST content-length-range"),
    Case("post_key_outside_the_signed_prefix", "post", form_post(fields={"key": "elsewhere/x.txt"}), 403,
         "AccessDenied", "POST starts-with"),
    Case("post_key_with_dotdot_outside_prefix", "post", form_post(fields={"key": "../x.txt"}), 403,
         "AccessDenied", "POST starts-with"),
    Case("post_extra_field_not_in_policy", "post", form_post(fields={"x-amz-meta-owner": "mallory"}), 403,
         "AccessDenied", "POST: every field needs a condition"),
    Case("post_tampered_policy", "post", tampered_policy, 403, SIG, "POST signature"),
    Case("post_without_file", "post", form_post(with_file=False), 400, "InvalidArgument", "POST: exactly one file"),
    Case("post_without_key", "post",
         form_post(form=lambda p: {**p.post_form(), "fields": {k: v for k, v in p.post_form()["fields"].items()
                                                                if k != "key"}}), 400, "InvalidArgument", "POST"),
    Case("post_expired_policy", "post",
         form_post(form=own_policy([], expiration="2020-01-01T00:00:00.000Z")), 403, "AccessDenied",
         "POST: Policy expired"),
    Case("post_unknown_access_key", "post",
         form_post(form=own_policy([], access_key="AKIAUNKNOWNKEY000000")), 403, "InvalidAccessKeyId", "POST"),
    Case("post_policy_expiration_without_timezone", "post",
         form_post(form=own_policy([], expiration="2099-01-01T00:00:00")), 400, "InvalidPolicyDocument",
         "POST expiration is ISO 8601 UTC (known bug 6)"),
    Case("post_policy_non_numeric_content_length_range", "post",
         form_post(form=own_policy([["content-length-range", "one", "ten"]])), 400, "InvalidPolicyDocument",
         "POST content-length-range (known bug 6)"),
    Case("post_policy_short_condition", "post", form_post(form=own_policy([["eq", "$key"]])), 400,
         "InvalidPolicyDocument", "POST conditions have three elements (known bug 6)"),
    Case("post_anonymous_without_policy", "post",
         lambda p: requests.post(f"{p.endpoint}/{p.multipart.bucket}", data={"key": "posts/anon.txt"},
                                 files={"file": ("a.txt", b"x")}), 403, "AccessDenied", "S3ERR AccessDenied"),
    # --- option 3: CloudFront + Lambda@Edge -------------------------------------------------------
    Case("cf_missing_authorization", "cloudfront", cf_put(authorization=None), 401, UNAUTHORIZED, "CF"),
    Case("cf_wrong_shared_secret", "cloudfront", cf_put(authorization=SECRET + "!"), 401, UNAUTHORIZED, "CF"),
    Case("cf_empty_authorization", "cloudfront", cf_put(authorization=""), 401, UNAUTHORIZED, "CF"),
    Case("cf_get_on_put_only_origin", "cloudfront", cf_put(method="GET"), 403, "AccessDenied",
         "OAI/OAC put-only bucket policy"),
    Case("cf_delete_on_put_only_origin", "cloudfront", cf_put(method="DELETE"), 403, "AccessDenied",
         "OAI/OAC put-only bucket policy"),
    Case("jwt_expired", "cloudfront_jwt", jwt_put(lambda: bearer(exp=int(time.time()) - 5)), 401, UNAUTHORIZED),
    Case("jwt_wrong_algorithm_HS512", "cloudfront_jwt", jwt_put(lambda: bearer(algorithm="HS512")), 401,
         UNAUTHORIZED),
    Case("jwt_algorithm_none", "cloudfront_jwt", jwt_put(lambda: bearer(key=None, algorithm="none")), 401,
         UNAUTHORIZED),
    Case("jwt_signed_with_another_key", "cloudfront_jwt",
         jwt_put(lambda: bearer(key="another-key-of-at-least-32-bytes!!!")), 401, UNAUTHORIZED),
    Case("jwt_malformed_token", "cloudfront_jwt", jwt_put("Bearer not.a.token"), 401, UNAUTHORIZED),
    Case("jwt_without_upload_scope", "cloudfront_jwt", jwt_put(lambda: bearer(scope="read")), 401, UNAUTHORIZED),
    Case("jwt_without_expiry", "cloudfront_jwt", jwt_put(lambda: bearer(exp=None)), 401, UNAUTHORIZED),
    Case("jwt_basic_scheme", "cloudfront_jwt", jwt_put("Basic dXNlcjpwYXNz"), 401, UNAUTHORIZED),
]


def error_code(response: requests.Response) -> str:
    text = response.content.decode("utf-8", "replace")
    match = re.search(r"<Code>([^<]+)</Code>", text)
    if match:
        return match.group(1)
    try:
        payload = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(payload, dict):
        return payload.get("code") or payload.get("message") or text
    return text


def snapshot(p: Paths) -> dict:
    """Every object, upload and part in the cases' buckets."""
    s3 = p.s3
    state = {}
    for bucket in p.buckets:
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        uploads = {}
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", [])
            uploads[upload["UploadId"]] = (upload["Key"], [x["PartNumber"] for x in parts])
        state[bucket] = {"objects": keys, "uploads": uploads}
    return state


def test_the_table_is_large_enough_and_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 40
    assert {case.path for case in CASES} == {"proxy", "presign", "multipart", "post", "cloudfront",
                                             "cloudfront_jwt"}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(paths, case, caplog):
    if case.name == "presigned_inactive_access_key":
        case = Case(case.name, case.path, presigned(lambda u, p: (u, OCTET, "PUT"),
                                                    access_key=paths.inactive_keys["access_key"],
                                                    secret=paths.inactive_keys["secret"]),
                    case.status, case.code, case.doc)
    before = snapshot(paths)
    paths.cleanups.clear()
    try:
        with caplog.at_level(logging.ERROR, logger="localaws"):
            response = case.send(paths)
        assert "Traceback" not in response.text
        # A bad input is the client's fault: the local AWS answers it without an internal error.
        assert not [r for r in caplog.records if r.name.startswith("localaws") and r.levelno >= logging.ERROR], \
            caplog.text[-2000:]
        assert (response.status_code, error_code(response)) == (case.status, case.code), response.text[:2000]
    finally:
        for cleanup in paths.cleanups:
            cleanup()
        paths.cleanups.clear()
        after = snapshot(paths)
        leftovers(paths, before, after)
        assert after == before, "the refused request left something behind"


def leftovers(p: Paths, before: dict, after: dict) -> None:
    """Remove what a failing case left, so that the next cases start from the same state."""
    for bucket, state in after.items():
        for key in set(state["objects"]) - set(before[bucket]["objects"]):
            p.s3.delete_object(Bucket=bucket, Key=key)
        for upload_id, (key, _) in state["uploads"].items():
            if upload_id not in before[bucket]["uploads"]:
                p.s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --- copy sources: a copy must not read what the caller may not read (known bug 1) ------------------

SECRET_BYTES = b"only the bucket owner may read this"


@pytest.fixture
def secret_object(paths):
    paths.s3.put_object(Bucket=paths.multipart.bucket, Key="private/secret.txt", Body=SECRET_BYTES)
    yield f"{paths.multipart.bucket}/private/secret.txt"
    paths.s3.delete_object(Bucket=paths.multipart.bucket, Key="private/secret.txt")


@pytest.mark.bad_input
def test_copy_object_needs_get_object_on_the_source_S3ERR_AccessDenied(paths, secret_object):
    """CopyObject needs s3:GetObject on the source as well as s3:PutObject on the destination
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html#API_CopyObject_Permissions)."""
    from botocore.exceptions import ClientError

    keys = paths.put_only_keys
    client = paths.signer(keys["access_key"], keys["secret"])
    before = snapshot(paths)
    with pytest.raises(ClientError) as err:
        client.copy_object(Bucket=paths.presign.bucket, Key="uploads/stolen.txt", CopySource=secret_object)
    assert (err.value.response["ResponseMetadata"]["HTTPStatusCode"], err.value.response["Error"]["Code"]) == \
        (403, "AccessDenied")
    assert snapshot(paths) == before


@pytest.mark.bad_input
def test_cloudfront_does_not_forward_a_viewer_copy_source(paths, secret_object):
    """A viewer's x-amz-copy-source must not turn the origin's PutObject into a copy of an object
    the viewer cannot read (the OAI may only put): the local AWS drops viewer x-amz-copy-source*
    headers on origin requests."""
    response = requests.put(f"{paths.cloudfront.url}/copied.txt", data=b"my own bytes",
                            headers={"Authorization": SECRET, "x-amz-copy-source": secret_object})
    try:
        assert response.status_code == 200, response.text
        stored = paths.s3.get_object(Bucket=paths.cloudfront.bucket, Key="copied.txt")["Body"].read()
        assert stored == b"my own bytes" and SECRET_BYTES not in stored
    finally:
        paths.s3.delete_object(Bucket=paths.cloudfront.bucket, Key="copied.txt")


@pytest.mark.bad_input
def test_keys_over_1024_bytes_are_refused_KeyTooLongError(paths):
    before = snapshot(paths)
    url = paths.presigned_put("uploads/" + "k" * 1020)
    response = requests.put(url, data=b"x", headers=OCTET)
    try:
        assert (response.status_code, error_code(response)) == (400, "KeyTooLongError")
    finally:
        after = snapshot(paths)
        leftovers(paths, before, after)
    assert after == before
