"""Multipart rules, checksums and presigned POST policies in the local AWS (plain boto3/requests).

MPU: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
LIMITS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
CHECKSUM: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
POST: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
"""
import base64
import hashlib
import os
import re
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import SignedAsRoot

MiB = 1024 * 1024


def sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def error(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aws, name):
    client = aws("s3")
    client.create_bucket(Bucket=name)
    client.bucket = name
    return client


def objects(s3):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])]


@pytest.fixture
def upload(s3):
    """A multipart upload with SHA-256 checksums: part 1 of 5 MiB, part 2 small."""
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="big", ChecksumAlgorithm="SHA256")["UploadId"]
    parts = {1: os.urandom(5 * MiB), 2: os.urandom(1000)}
    etags = {}
    for number, data in parts.items():
        answer = s3.upload_part(Bucket=s3.bucket, Key="big", UploadId=upload_id, PartNumber=number,
                                Body=data, ChecksumSHA256=sha(data))
        assert answer["ChecksumSHA256"] == sha(data)
        etags[number] = answer["ETag"]
    return upload_id, parts, etags


def listed(etags, parts, order=(1, 2), checksums=True):
    return {"Parts": [{"PartNumber": n, "ETag": etags[n], **({"ChecksumSHA256": sha(parts[n])} if checksums else {})}
                      for n in order]}


def test_complete_gives_s3_s_multipart_etag_and_composite_checksum_CHECKSUM(s3, upload):
    upload_id, parts, etags = upload
    done = s3.complete_multipart_upload(Bucket=s3.bucket, Key="big", UploadId=upload_id,
                                        MultipartUpload=listed(etags, parts))
    md5s = b"".join(hashlib.md5(parts[n]).digest() for n in (1, 2))
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-2"'
    composite = base64.b64encode(hashlib.sha256(base64.b64decode(sha(parts[1])) +
                                                base64.b64decode(sha(parts[2]))).digest()).decode() + "-2"
    assert done["ChecksumSHA256"] == composite
    head = s3.head_object(Bucket=s3.bucket, Key="big", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == composite and head["ChecksumType"] == "COMPOSITE"
    assert s3.get_object(Bucket=s3.bucket, Key="big")["Body"].read() == parts[1] + parts[2]


def test_unknown_upload_id_is_no_such_upload_not_500_MPU(s3):
    for call in (lambda: s3.upload_part(Bucket=s3.bucket, Key="k", UploadId="bogus", PartNumber=1, Body=b"x"),
                 lambda: s3.complete_multipart_upload(Bucket=s3.bucket, Key="k", UploadId="bogus",
                                                      MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
                 lambda: s3.list_parts(Bucket=s3.bucket, Key="k", UploadId="bogus"),
                 lambda: s3.abort_multipart_upload(Bucket=s3.bucket, Key="k", UploadId="bogus")):
        assert error(call) == ("NoSuchUpload", 404)


def test_part_numbers_outside_1_to_10000_are_refused_LIMITS(s3, upload):
    upload_id, _, _ = upload
    for number in (0, 10001):
        assert error(lambda: s3.upload_part(Bucket=s3.bucket, Key="big", UploadId=upload_id,
                                            PartNumber=number, Body=b"x"))[0] == "InvalidArgument"


def test_parts_out_of_order_wrong_etag_and_small_parts_are_refused_MPU(s3, upload):
    upload_id, parts, etags = upload
    assert error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="big", UploadId=upload_id,
        MultipartUpload=listed(etags, parts, order=(2, 1)))) == ("InvalidPartOrder", 400)
    wrong = {**etags, 1: '"0123456789abcdef0123456789abcdef"'}
    assert error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="big", UploadId=upload_id,
        MultipartUpload=listed(wrong, parts, checksums=False))) == ("InvalidPart", 400)
    s3.upload_part(Bucket=s3.bucket, Key="big", UploadId=upload_id, PartNumber=3, Body=b"tiny",
                   ChecksumSHA256=sha(b"tiny"))
    small = {"Parts": [{"PartNumber": 2, "ETag": etags[2]},
                       {"PartNumber": 3, "ETag": f'"{hashlib.md5(b"tiny").hexdigest()}"'}]}
    assert error(lambda: s3.complete_multipart_upload(Bucket=s3.bucket, Key="big", UploadId=upload_id,
                                                      MultipartUpload=small)) == ("EntityTooSmall", 400)
    assert objects(s3) == []


def test_a_part_checksum_in_complete_must_match_the_uploaded_part(s3, upload):
    upload_id, parts, etags = upload
    bad = {"Parts": [{"PartNumber": 1, "ETag": etags[1], "ChecksumSHA256": sha(b"other")},
                     {"PartNumber": 2, "ETag": etags[2], "ChecksumSHA256": sha(parts[2])}]}
    assert error(lambda: s3.complete_multipart_upload(Bucket=s3.bucket, Key="big", UploadId=upload_id,
                                                      MultipartUpload=bad)) == ("InvalidPart", 400)


def test_list_parts_returns_each_part_s_checksum_for_resuming(s3, upload):
    upload_id, parts, _ = upload
    listed_parts = s3.list_parts(Bucket=s3.bucket, Key="big", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ChecksumSHA256"]) for p in listed_parts] == [(1, sha(parts[1])), (2, sha(parts[2]))]


def test_abort_removes_the_upload_and_its_parts(s3, upload):
    upload_id, _, _ = upload
    s3.abort_multipart_upload(Bucket=s3.bucket, Key="big", UploadId=upload_id)
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert error(lambda: s3.list_parts(Bucket=s3.bucket, Key="big", UploadId=upload_id))[0] == "NoSuchUpload"


def test_checksum_mismatch_is_bad_digest_and_writes_nothing_CHECKSUM(s3, upload):
    assert error(lambda: s3.put_object(Bucket=s3.bucket, Key="c", Body=b"hello",
                                       ChecksumSHA256=sha(b"other"))) == ("BadDigest", 400)
    upload_id, _, _ = upload
    assert error(lambda: s3.upload_part(Bucket=s3.bucket, Key="big", UploadId=upload_id, PartNumber=3,
                                        Body=b"x", ChecksumSHA256=sha(b"y"))) == ("BadDigest", 400)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=s3.bucket, Key="big", UploadId=upload_id)["Parts"]] == [1, 2]
    assert objects(s3) == []


def test_stored_checksums_come_back_with_checksum_mode_and_go_with_overwrites(s3):
    s3.put_object(Bucket=s3.bucket, Key="c", Body=b"hello", ChecksumSHA256=sha(b"hello"))
    head = s3.head_object(Bucket=s3.bucket, Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha(b"hello") and head["ChecksumType"] == "FULL_OBJECT"
    assert s3.get_object(Bucket=s3.bucket, Key="c", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha(b"hello")
    s3.put_object(Bucket=s3.bucket, Key="c", Body=b"new")
    assert "ChecksumSHA256" not in s3.head_object(Bucket=s3.bucket, Key="c", ChecksumMode="ENABLED")


def test_crc32_checksums_are_verified_too(s3):
    import zlib
    crc = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    s3.put_object(Bucket=s3.bucket, Key="crc", Body=b"data", ChecksumCRC32=crc)
    assert error(lambda: s3.put_object(Bucket=s3.bucket, Key="crc2", Body=b"other", ChecksumCRC32=crc))[0] == "BadDigest"


def test_boto3_default_checksums_with_aws_chunked_trailers_are_accepted(endpoint, s3):
    default = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
    default.put_object(Bucket=s3.bucket, Key="default", Body=b"x" * 100_000)
    assert s3.get_object(Bucket=s3.bucket, Key="default")["Body"].read() == b"x" * 100_000


def test_presigned_part_urls_are_verified_with_their_signed_checksum(endpoint, s3):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="p", ChecksumAlgorithm="SHA256")["UploadId"]
    signer = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(signature_version="s3v4"))
    data = os.urandom(1000)
    url = signer.generate_presigned_url("upload_part", Params={
        "Bucket": s3.bucket, "Key": "p", "UploadId": upload_id, "PartNumber": 1, "ChecksumSHA256": sha(data)})
    assert requests.put(url.replace("partNumber=1", "partNumber=2"), data=data,
                        headers={"x-amz-checksum-sha256": sha(data)}).status_code == 403
    other = os.urandom(1000)
    tampered = requests.put(url, data=other, headers={"x-amz-checksum-sha256": sha(other)})
    assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text
    changed = requests.put(url, data=other, headers={"x-amz-checksum-sha256": sha(data)})
    assert changed.status_code == 400 and "BadDigest" in changed.text
    assert requests.put(url, data=data, headers={"x-amz-checksum-sha256": sha(data)}).status_code == 200
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=s3.bucket, Key="p", UploadId=upload_id)["Parts"]] == [1]


# --- presigned POST ------------------------------------------------------------------------------

def post_policy(endpoint, s3, *, key="incoming/${filename}", conditions=None, expires=60, access=("test", "test")):
    signer = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access[0],
                          aws_secret_access_key=access[1], config=Config(signature_version="s3v4",
                                                                          s3={"addressing_style": "path"}))
    return signer.generate_presigned_post(
        s3.bucket, key, ExpiresIn=expires,
        Conditions=conditions or [["content-length-range", 10, 1000], ["starts-with", "$key", "incoming/"]])


def post(form, data, filename="f.bin", fields=None):
    return requests.post(form["url"], data={**form["fields"], **(fields or {})},
                         files={"file": (filename, data)})


def xml(response, tag):
    match = re.search(rf"<{tag}>([^<]*)</{tag}>", response.text)
    return match.group(1) if match else None


def test_post_within_the_policy_stores_the_file_POST(endpoint, s3):
    response = post(post_policy(endpoint, s3), b"x" * 100, filename="ok.bin")
    assert response.status_code == 204
    assert s3.get_object(Bucket=s3.bucket, Key="incoming/ok.bin")["Body"].read() == b"x" * 100


@pytest.mark.parametrize("size,code,limit_tag", [(1001, "EntityTooLarge", "MaxSizeAllowed"),
                                                  (9, "EntityTooSmall", "MinSizeAllowed")])
def test_post_outside_content_length_range_is_refused_POST(endpoint, s3, size, code, limit_tag):
    response = post(post_policy(endpoint, s3), b"x" * size)
    assert (response.status_code, xml(response, "Code")) == (400, code)
    assert xml(response, "ProposedSize") == str(size) and xml(response, limit_tag)
    assert objects(s3) == []


def test_post_breaking_a_condition_or_adding_fields_is_refused_POST(endpoint, s3):
    form = post_policy(endpoint, s3)
    moved = post(form, b"x" * 100, fields={"key": "elsewhere/f.bin"})
    assert (moved.status_code, xml(moved, "Code")) == (403, "AccessDenied")
    assert xml(moved, "Message").startswith("Invalid according to Policy: Policy Condition failed:")
    extra = post(form, b"x" * 100, fields={"acl": "public-read"})
    assert xml(extra, "Message") == "Invalid according to Policy: Extra input fields: acl"
    assert objects(s3) == []


def test_post_with_expired_policy_or_bad_signature_is_refused_POST(endpoint, s3):
    late = post_policy(endpoint, s3, expires=1)
    time.sleep(2.1)
    response = post(late, b"x" * 100)
    assert (response.status_code, xml(response, "Message")) == (403, "Invalid according to Policy: Policy expired.")
    form = post_policy(endpoint, s3)
    forged = post(form, b"x" * 100, fields={"x-amz-signature": "0" * 64})
    assert (forged.status_code, xml(forged, "Code")) == (403, "SignatureDoesNotMatch")
    assert objects(s3) == []


def test_post_signed_by_a_principal_without_put_object_is_refused(aws, endpoint, s3, name):
    import json
    iam = aws("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    form = post_policy(endpoint, s3, access=(key["AccessKeyId"], key["SecretAccessKey"]))
    response = post(form, b"x" * 100)
    assert (response.status_code, xml(response, "Code")) == (403, "AccessDenied")
    assert objects(s3) == []


def test_anonymous_post_to_a_private_bucket_is_refused(endpoint, s3):
    response = requests.post(f"{endpoint}/{s3.bucket}", data={"key": "anon.txt"}, files={"file": ("a", b"x")})
    assert (response.status_code, xml(response, "Code")) == (403, "AccessDenied")
    assert objects(s3) == []


def test_a_checksum_signed_into_a_presigned_put_is_verified_CHECKSUM(endpoint, s3):
    signer = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(signature_version="s3v4"))
    data = b"photo bytes" * 1000
    url = signer.generate_presigned_url("put_object", Params={
        "Bucket": s3.bucket, "Key": "signed.bin", "ChecksumSHA256": sha(data)})
    changed = requests.put(url, data=data[:-1] + b"!", headers={"x-amz-checksum-sha256": sha(data)})
    assert changed.status_code == 400 and "<Code>BadDigest</Code>" in changed.text
    assert objects(s3) == []
    assert requests.put(url, data=data, headers={"x-amz-checksum-sha256": sha(data)}).status_code == 200
    assert s3.head_object(Bucket=s3.bucket, Key="signed.bin", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha(data)


def signed_form(endpoint, s3, policy):
    """A POST form for a policy document written by hand (as a learner's own code might)."""
    import hmac
    import json

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    credential = f"test/{stamp[:8]}/us-east-1/s3/aws4_request"
    document = base64.b64encode(json.dumps(policy).encode()).decode()
    key = b"AWS4test"
    for part in (stamp[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return {"url": f"{endpoint}/{s3.bucket}", "fields": {
        "key": "incoming/${filename}", "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": credential, "x-amz-date": stamp, "policy": document,
        "x-amz-signature": hmac.new(key, document.encode(), hashlib.sha256).hexdigest()}}


@pytest.mark.parametrize("policy", [
    {"expiration": "2099-01-01T00:00:00", "conditions": []},                      # no time zone
    {"conditions": []},                                                             # no expiration
    {"expiration": "2099-01-01T00:00:00Z", "conditions": {"bucket": "x"}},         # not a list
    {"expiration": "2099-01-01T00:00:00Z", "conditions": [["eq", "$key"]]},        # two elements
    {"expiration": "2099-01-01T00:00:00Z", "conditions": [["content-length-range", "a", "b"]]},
], ids=["naive-expiration", "no-expiration", "conditions-object", "short-condition", "range-not-numbers"])
def test_a_malformed_post_policy_is_invalid_policy_document_not_a_500_POST(endpoint, s3, policy):
    response = post(signed_form(endpoint, s3, policy), b"x" * 100)
    assert (response.status_code, xml(response, "Code")) == (400, "InvalidPolicyDocument")
    assert xml(response, "Message").startswith("Invalid Policy: ")
    assert objects(s3) == []


def test_complete_with_a_part_number_that_is_not_a_number_is_malformed_xml_MPU(endpoint, s3, upload):
    upload_id, _, etags = upload
    url = f"{endpoint}/{s3.bucket}/big?uploadId={upload_id}"
    body = (f"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>{etags[1]}</ETag></Part>"
            "</CompleteMultipartUpload>")
    response = requests.post(url, data=body, auth=SignedAsRoot())
    assert (response.status_code, xml(response, "Code")) == (400, "MalformedXML")
    assert objects(s3) == []
    assert s3.list_multipart_uploads(Bucket=s3.bucket)["Uploads"][0]["UploadId"] == upload_id


def test_a_checksum_is_not_reported_for_an_object_replaced_by_copy_or_post(endpoint, s3):
    s3.put_object(Bucket=s3.bucket, Key="src", Body=b"other bytes")
    s3.put_object(Bucket=s3.bucket, Key="incoming/c.bin", Body=b"x" * 50, ChecksumSHA256=sha(b"x" * 50))
    assert post(post_policy(endpoint, s3), b"y" * 60, filename="c.bin").status_code == 204
    head = s3.head_object(Bucket=s3.bucket, Key="incoming/c.bin", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") != sha(b"x" * 50)
    s3.put_object(Bucket=s3.bucket, Key="d", Body=b"z" * 10, ChecksumSHA256=sha(b"z" * 10))
    s3.copy_object(Bucket=s3.bucket, Key="d", CopySource=f"{s3.bucket}/src")
    assert s3.head_object(Bucket=s3.bucket, Key="d", ChecksumMode="ENABLED").get("ChecksumSHA256") != sha(b"z" * 10)
