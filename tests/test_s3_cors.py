"""CORS on the local S3, judged from outside with plain HTTP as a browser would send it.

References: S3 API "OPTIONS object"
(https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html), S3 User Guide "Using
cross-origin resource sharing (CORS)" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html),
"Elements of a CORS configuration"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html) and "Troubleshooting
CORS" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html).
"""
import re

import pytest
import requests

SITE = "http://127.0.0.1:8123"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution "
               "of Origin, request method / Access-Control-Request-Method or Access-Control-Request-"
               "Headers are not whitelisted by the resource's CORS spec.")


@pytest.fixture
def bucket(aws, name):
    aws("s3").create_bucket(Bucket=name)
    return name


def cors_headers(response):
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def error(response):
    fields = dict(re.findall(r"<(\w+)>([^<]*)</\1>", response.text))
    return {k: fields.get(k) for k in ("Code", "Message", "Method", "ResourceType") if k in fields}


def options(url, origin=SITE, method="PUT", headers=None):
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=sent, timeout=30)


def put_cors(aws, bucket, *rules):
    aws("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)})


UPLOAD_RULE = {"AllowedOrigins": [SITE], "AllowedMethods": ["PUT", "POST"],
               "AllowedHeaders": ["Content-Type", "x-amz-*"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
               "MaxAgeSeconds": 600}
PUBLIC_READ_RULE = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}


def test_preflight_to_a_presigned_url_is_not_authenticated_and_needs_cors_enabled(aws, bucket):
    """A preflight carries no signature of its own: S3 answers it from the CORS configuration
    ("OPTIONS object": "If cors is not enabled on the bucket, then Amazon S3 returns a 403
    Forbidden response"), never with SignatureDoesNotMatch (what the local AWS answered before)."""
    url = aws("s3").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a.bin"})
    response = options(url, headers="content-type")
    assert response.status_code == 403
    assert error(response) == {"Code": "AccessForbidden",
                               "Message": "CORSResponse: CORS is not enabled for this bucket.",
                               "Method": "PUT", "ResourceType": "BUCKET"}
    assert cors_headers(response) == {}
    # A plain path (no signature at all) is not refused as anonymous either.
    plain = options(f"{aws('s3').meta.endpoint_url}/{bucket}/a.bin")
    assert plain.status_code == 403 and error(plain)["Code"] == "AccessForbidden"
    assert "Contents" not in aws("s3").list_objects_v2(Bucket=bucket)


def test_preflight_without_origin_is_a_bad_request(aws, bucket, endpoint):
    """The Origin header is required ("OPTIONS object", Request Headers)."""
    put_cors(aws, bucket, UPLOAD_RULE)
    for method in ("PUT", None):
        response = options(f"{endpoint}/{bucket}/a.bin", origin=None, method=method)
        assert response.status_code == 400
        assert error(response) == {"Code": "BadRequest",
                                   "Message": "Insufficient information. Origin request header needed."}


def test_preflight_for_a_bucket_that_does_not_exist(endpoint, name):
    response = options(f"{endpoint}/{name}-missing/a.bin")
    assert response.status_code == 403
    assert error(response) == {"Code": "AccessForbidden", "Message": "CORSResponse: Bucket not found",
                               "Method": "PUT", "ResourceType": "BUCKET"}


def test_preflight_matching_a_rule_gets_its_headers(aws, bucket):
    """The first matching rule answers: Allow-Origin (the origin itself, with credentials
    allowed), the rule's methods, the requested headers, ExposeHeaders and MaxAgeSeconds
    ("Elements of a CORS configuration"; "OPTIONS object", Response Headers)."""
    put_cors(aws, bucket, UPLOAD_RULE, PUBLIC_READ_RULE)
    url = aws("s3").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a.bin"})
    response = options(url, headers="Content-Type,X-Amz-Meta-Owner")
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "PUT, POST",
        "Access-Control-Allow-Headers": "content-type, x-amz-meta-owner",
        "Access-Control-Expose-Headers": "ETag, x-amz-request-id",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Credentials": "true",
    }
    assert response.headers["Vary"] == VARY
    # Another origin, GET: only the second rule matches; `*` answers `*`, no credentials.
    other = options(url, origin="https://elsewhere.example", method="GET")
    assert other.status_code == 200
    assert cors_headers(other) == {"Access-Control-Allow-Origin": "*",
                                   "Access-Control-Allow-Methods": "GET, HEAD"}


@pytest.mark.parametrize("origin, method, headers", [
    ("http://127.0.0.1:8124", "PUT", None),          # another port is another origin
    (SITE.upper(), "PUT", None),                     # origins compare case-sensitively
    (SITE, "DELETE", None),                          # a method no rule allows
    (SITE, "PUT", "content-type, authorization"),   # a header no rule allows
    ("https://elsewhere.example", "GET", "content-type"),  # a rule without AllowedHeader allows none
])
def test_preflight_matching_no_rule_is_refused(aws, bucket, origin, method, headers):
    """Origin, method and every requested header must match in one rule ("Troubleshooting
    CORS": 403 Forbidden error: This CORS request is not allowed)."""
    put_cors(aws, bucket, UPLOAD_RULE, PUBLIC_READ_RULE)
    url = aws("s3").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a.bin"})
    response = options(url, origin=origin, method=method, headers=headers)
    assert response.status_code == 403
    assert error(response) == {"Code": "AccessForbidden", "Message": NOT_ALLOWED, "Method": method,
                               "ResourceType": "OBJECT"}
    assert cors_headers(response) == {}


def test_preflight_to_the_bucket_for_a_presigned_post(aws, bucket, endpoint):
    put_cors(aws, bucket, UPLOAD_RULE)
    allowed = options(f"{endpoint}/{bucket}", method="POST")
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Methods"] == "PUT, POST"
    refused = options(f"{endpoint}/{bucket}", method="GET")
    assert refused.status_code == 403 and error(refused)["ResourceType"] == "BUCKET"


def test_allowed_origin_with_one_wildcard(aws, bucket, endpoint):
    """An AllowedOrigin may contain one `*` ("Elements of a CORS configuration", AllowedOrigin);
    the matched origin is sent back, not the pattern."""
    put_cors(aws, bucket, {"AllowedOrigins": ["http://*.example.com"], "AllowedMethods": ["PUT"],
                           "AllowedHeaders": ["x-amz-*"]})
    url = f"{endpoint}/{bucket}/k"
    match = options(url, origin="http://app.example.com", headers="X-Amz-Date")
    assert match.status_code == 200
    assert match.headers["Access-Control-Allow-Origin"] == "http://app.example.com"
    assert match.headers["Access-Control-Allow-Headers"] == "x-amz-date"
    for origin in ("http://example.com", "https://app.example.com", "http://app.example.com.evil"):
        assert options(url, origin=origin).status_code == 403, origin
    assert options(url, origin="http://app.example.com", headers="content-type").status_code == 403


def test_preflight_for_a_method_s3_does_not_know(aws, bucket, endpoint):
    put_cors(aws, bucket, UPLOAD_RULE)
    response = options(f"{endpoint}/{bucket}/k", method="PATCH")
    assert response.status_code == 400
    assert error(response) == {"Code": "BadRequest", "Message": "Invalid Access-Control-Request-Method: PATCH"}


def test_actual_requests_get_cors_headers_only_from_a_matching_rule(aws, bucket):
    """An actual request from an allowed origin gets the rule's headers (no Allow-Headers);
    from any other origin, or without a CORS configuration, none at all ("Using CORS": "How
    does Amazon S3 evaluate the CORS configuration on a bucket?")."""
    s3 = aws("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    # No configuration: moto's flask-cors used to add Access-Control-Allow-Origin to everything.
    bare = requests.get(url, headers={"Origin": SITE}, timeout=30)
    assert bare.status_code == 200 and bare.content == b"hello"
    assert cors_headers(bare) == {} and "Vary" not in bare.headers
    put_cors(aws, bucket, {**UPLOAD_RULE, "AllowedMethods": ["GET", "PUT"]})
    allowed = requests.get(url, headers={"Origin": SITE}, timeout=30)
    assert allowed.status_code == 200
    assert cors_headers(allowed) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Expose-Headers": "ETag, x-amz-request-id",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Credentials": "true",
    }
    assert allowed.headers["Vary"] == VARY
    other = requests.get(url, headers={"Origin": "http://127.0.0.1:9"}, timeout=30)
    assert other.status_code == 200 and cors_headers(other) == {}
    no_origin = requests.get(url, timeout=30)
    assert cors_headers(no_origin) == {}
    # Small and large objects alike (moto answers one, the streaming path the other).
    s3.put_object(Bucket=bucket, Key="big", Body=b"x" * (3 * 1024 * 1024))
    big = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big"})
    streamed = requests.get(big, headers={"Origin": SITE}, timeout=30)
    assert streamed.status_code == 200 and streamed.headers["Access-Control-Allow-Origin"] == SITE
    assert list(streamed.headers).count("Access-Control-Allow-Origin") == 1


def test_refusals_of_actual_requests_carry_the_cors_headers(aws, bucket):
    """A browser can read S3's error only when the answer carries CORS headers; S3 adds them to
    errors as well (a tampered presigned PUT: 403 SignatureDoesNotMatch, readable)."""
    put_cors(aws, bucket, UPLOAD_RULE)
    url = aws("s3").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "a.bin"})
    response = requests.put(url.replace("a.bin", "b.bin"), data=b"data", headers={"Origin": SITE},
                            timeout=30)
    assert response.status_code == 403 and "SignatureDoesNotMatch" in response.text
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Contents" not in aws("s3").list_objects_v2(Bucket=bucket)


def test_no_service_answer_carries_blanket_cors_headers(aws):
    """moto's server wraps every service in flask-cors (Access-Control-Allow-Origin: * on every
    answer); AWS's APIs do not send that."""
    sts = aws("sts")
    sts.meta.events.register("before-sign.sts.*",
                             lambda request, **_: request.headers.__setitem__("Origin", SITE))
    answer = sts.get_caller_identity()
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    assert not [k for k in headers if k.lower().startswith("access-control-")]
    s3 = aws("s3")
    s3.meta.events.register("before-sign.s3.*",
                            lambda request, **_: request.headers.__setitem__("Origin", SITE))
    listed = s3.list_buckets()["ResponseMetadata"]["HTTPHeaders"]
    assert not [k for k in listed if k.lower().startswith("access-control-")]
