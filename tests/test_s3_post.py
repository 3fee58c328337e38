"""Browser-based uploads (POST Object with a signed policy) parsed as S3 parses the form.

References: S3 API "POST Object" (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html),
"Browser-based uploads using POST (AWS Signature Version 4)"
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html), "Creating an HTML
form" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTForms.html) and "POST
policy" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
"""
import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

DATA = b"form upload \x00\x01 bytes" * 100
MD5 = hashlib.md5(DATA).hexdigest()


@pytest.fixture
def bucket(aws, name):
    aws("s3").create_bucket(Bucket=name)
    return name


def error(response):
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", response.text))


def keys(aws, bucket):
    return [o["Key"] for o in aws("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def signed_form(policy, fields=None):
    """Fields of a SigV4 POST form for ``policy`` (a dict, or a raw string), signed as the
    docs' "Calculating a signature" says: HMAC-SHA256 of the base64 policy with the signing key."""
    date = time.strftime("%Y%m%d", time.gmtime())
    credential = f"test/{date}/us-east-1/s3/aws4_request"
    text = policy if isinstance(policy, str) else json.dumps(policy)
    encoded = base64.b64encode(text.encode()).decode()
    key = ("AWS4test").encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
    return {**(fields or {}), "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential,
            "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), "policy": encoded,
            "x-amz-signature": signature}


def expiry(seconds=600):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


SIGNING_CONDITIONS = [["starts-with", "$x-amz-algorithm", ""], ["starts-with", "$x-amz-credential", ""],
                      ["starts-with", "$x-amz-date", ""]]


def test_fields_sent_as_file_parts_are_read(aws, bucket, endpoint):
    """`requests.post(url, files=...)` sends every field as a part with a filename; S3 reads
    each part by its name, and only the part named `file` is the file (POST Object)."""
    post = aws("s3").generate_presigned_post(bucket, "uploads/${filename}")
    parts = {name: (None, value) for name, value in post["fields"].items()}
    as_files = {name: ("blob", value) for name, value in post["fields"].items()}
    for form in (parts, as_files):
        response = requests.post(post["url"], files={**form, "file": ("photo.jpg", DATA)}, timeout=30)
        assert response.status_code == 204, response.text
        assert response.headers["ETag"] == f'"{MD5}"'
        assert response.headers["Location"] == f"{endpoint}/{bucket}/uploads%2Fphoto.jpg"
    assert keys(aws, bucket) == ["uploads/photo.jpg"]
    assert aws("s3").get_object(Bucket=bucket, Key="uploads/photo.jpg")["Body"].read() == DATA


def test_field_and_condition_names_are_case_insensitive(aws, bucket):
    """Mixed-case names (what the JavaScript SDK's createPresignedPost sends: `Policy`,
    `X-Amz-Signature`, ...) are the same fields; a mixed-case name used to pass the checks and
    then crash moto with a 500."""
    policy = {"expiration": expiry(), "conditions": [
        {"BUCKET": bucket}, ["StArTs-WiTh", "$KeY", "up/"], {"Content-Type": "text/plain"},
        {"x-amz-meta-Owner": "ana"}, *SIGNING_CONDITIONS]}
    fields = signed_form(policy, {"Key": "up/a.txt", "content-TYPE": "text/plain", "X-Amz-Meta-Owner": "ana"})
    fields = {name.upper() if name.startswith("x-amz") else name.title(): value for name, value in fields.items()}
    response = requests.post(f"{aws('s3').meta.endpoint_url}/{bucket}", files={
        **{k: (None, v) for k, v in fields.items()}, "File": (None, DATA)}, timeout=30)
    assert response.status_code == 204, response.text
    head = aws("s3").head_object(Bucket=bucket, Key="up/a.txt")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"owner": "ana"}


def test_success_action_status_201_answers_a_post_response(aws, bucket, endpoint):
    """success_action_status=201: S3 returns a PostResponse document with Location, Bucket, Key
    and ETag, and ETag and Location headers (POST Object, Responses)."""
    post = aws("s3").generate_presigned_post(bucket, "a/b c.bin", Fields={"success_action_status": "201"},
                                             Conditions=[{"success_action_status": "201"}])
    response = requests.post(post["url"], data=post["fields"], files={"file": ("x", DATA)}, timeout=30)
    assert response.status_code == 201, response.text
    location = f"{endpoint}/{bucket}/a%2Fb%20c.bin"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert error(response) == {"Location": location, "Bucket": bucket, "Key": "a/b c.bin", "ETag": f'"{MD5}"'}
    assert response.headers["ETag"] == f'"{MD5}"' and response.headers["Location"] == location


def test_success_action_redirect(aws, bucket):
    """An absolute success_action_redirect: 303 to it with bucket, key and etag added."""
    target = "http://127.0.0.1:9/done?from=form"
    post = aws("s3").generate_presigned_post(bucket, "r.bin", Fields={"success_action_redirect": target},
                                             Conditions=[{"success_action_redirect": target}])
    response = requests.post(post["url"], data=post["fields"], files={"file": ("x", DATA)},
                             allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://127.0.0.1:9/done"
    assert parse_qs(location.query) == {"from": ["form"], "bucket": [bucket], "key": ["r.bin"],
                                        "etag": [f'"{MD5}"']}
    assert keys(aws, bucket) == ["r.bin"]


def test_fields_after_the_file_are_ignored(aws, bucket):
    """"The file or text content must be the last field in the form" (POST Object): S3 ignores
    what follows, so a key sent after the file is missing."""
    post = aws("s3").generate_presigned_post(bucket, "late.bin")
    fields = dict(post["fields"])
    key = fields.pop("key")
    body = [(k, (None, v)) for k, v in fields.items()] + [("file", ("x", DATA)), ("key", (None, key))]
    response = requests.post(post["url"], files=body, timeout=30)
    assert response.status_code == 400
    assert error(response)["Code"] == "InvalidArgument" and error(response)["ArgumentName"] == "key"
    assert keys(aws, bucket) == []


@pytest.mark.parametrize("case, policy, drop, status, code, message", [
    ("expiration not ISO 8601", lambda b: {"expiration": expiry().replace("T", " "), "conditions": [{"bucket": b}]},
     None, 400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '{exp}'"),
    ("expiration with an offset", lambda b: {"expiration": expiry().replace("Z", "+00:00"), "conditions": []},
     None, 400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '{exp}'"),
    ("no conditions", lambda b: {"expiration": expiry()}, None, 400, "InvalidPolicyDocument",
     "Invalid Policy: Policy missing conditions."),
    ("no expiration", lambda b: {"conditions": []}, None, 400, "InvalidPolicyDocument",
     "Invalid Policy: Policy missing expiration."),
    ("conditions not a list", lambda b: {"expiration": expiry(), "conditions": {"bucket": b}}, None, 400,
     "InvalidPolicyDocument", "Invalid Policy: Invalid 'conditions' value: must be a List."),
    ("no signature", lambda b: {"expiration": expiry(), "conditions": []}, "x-amz-signature", 400,
     "InvalidArgument", "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, "
     "please check the order of the fields."),
    ("no key", lambda b: {"expiration": expiry(), "conditions": []}, "key", 400, "InvalidArgument",
     "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."),
    ("eq on a field without $", lambda b: {"expiration": expiry(), "conditions": [
        {"bucket": b}, ["eq", "key", "k.bin"], ["eq", "$key", "k.bin"], *SIGNING_CONDITIONS]},
     None, 403, "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "key", "k.bin"]'),
    ("starts-with on an absent field", lambda b: {"expiration": expiry(), "conditions": [
        {"bucket": b}, {"key": "k.bin"}, ["starts-with", "$Content-Type", ""], *SIGNING_CONDITIONS]},
     None, 403, "AccessDenied",
     'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", ""]'),
    ("two properties in a simple condition", lambda b: {"expiration": expiry(), "conditions": [
        {"bucket": b, "key": "k.bin"}]}, None, 400, "InvalidPolicyDocument",
     "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."),
])
def test_bad_policies_and_forms_get_s3s_errors(aws, bucket, case, policy, drop, status, code, message):
    """Malformed policies are 400 InvalidPolicyDocument, missing fields 400 InvalidArgument,
    failed conditions 403 (POST policy: Expiration, Conditions, Condition matching); nothing is
    stored."""
    document = policy(bucket)
    fields = signed_form(document, {"key": "k.bin"})
    fields.pop(drop, None)
    response = requests.post(f"{aws('s3').meta.endpoint_url}/{bucket}", data=fields,
                             files={"file": ("x", DATA)}, timeout=30)
    assert response.status_code == status, (case, response.text)
    found = error(response)
    assert found["Code"] == code
    assert found["Message"] == message.format(exp=document.get("expiration"))
    assert keys(aws, bucket) == []


def test_key_from_the_filename_and_a_file_part_without_one(aws, bucket):
    """${filename} becomes the file's name; a file part without a filename keeps it literally."""
    post = aws("s3").generate_presigned_post(bucket, "in/${filename}")
    ok = requests.post(post["url"], data=post["fields"], files={"file": ("doc.pdf", DATA)}, timeout=30)
    assert ok.status_code == 204
    literal = requests.post(post["url"], files={**{k: (None, v) for k, v in post["fields"].items()},
                                                "file": (None, DATA)}, timeout=30)
    assert literal.status_code == 204
    assert sorted(keys(aws, bucket)) == ["in/${filename}", "in/doc.pdf"]
