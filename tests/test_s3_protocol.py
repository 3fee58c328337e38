"""S3's protocol as clients meet it: operations whatever harmless query parameters they carry,
Content-MD5, checksums, multipart errors with S3's fields, conditional writes, NoSuchBucket and
the S3 condition keys of bucket policies. Raw requests where a client would hide the detail.

PUT: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
ERRORS: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
CHECKSUM: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
MPU: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
CREATE: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
CONDITIONAL: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
GET: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
KEYS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
"""
import base64
import hashlib
import json
import os
import re
import zlib

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import SignedAsRoot
from localaws.s3.integrity import checksum_of

MiB = 1024 * 1024


SIGNED = SignedAsRoot()  # requests auth: header-signed as the root (test/test)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def code_of(response) -> str:
    found = re.search(r"<Code>([^<]+)</Code>", response.text)
    return found.group(1) if found else ""


def field(response, name) -> str | None:
    found = re.search(rf"<{name}>([^<]*)</{name}>", response.text)
    return found.group(1) if found else None


def client_error(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response


@pytest.fixture
def s3(aws, name):
    client = aws("s3")
    client.create_bucket(Bucket=name)
    client.bucket = name
    return client


@pytest.fixture
def url(endpoint, s3):
    return lambda key, query="": f"{endpoint}/{s3.bucket}/{key}" + (f"?{query}" if query else "")


def stored(s3, key) -> bool:
    try:
        s3.head_object(Bucket=s3.bucket, Key=key)
        return True
    except ClientError:
        return False


def presign(endpoint, method, path_and_query, headers=None):
    """A SigV4 presigned URL over exactly this path and query, as the JavaScript SDK signs its
    ``?x-id=PutObject`` URLs (botocore's own presigner would not add x-id)."""
    request = AWSRequest(method=method, url=f"{endpoint}{path_and_query}", headers=headers or {})
    S3SigV4QueryAuth(Credentials("test", "test"), "s3", "us-east-1", expires=300).add_auth(request)
    return request.url


# --- 1. one operation, whatever harmless parameters come with it -------------------------------

@pytest.mark.parametrize("query", ["x-id=PutObject", "x-id=PutObject&unknown-harmless="])
def test_a_put_with_x_id_is_verified_like_any_PutObject(s3, url, query):
    """The AWS SDK for JavaScript v3 adds ``x-id=PutObject``; S3 still checks the checksum
    (CHECKSUM). Before: any query string went to moto unchecked, and the object was stored."""
    wrong = requests.put(url("x.bin", "x-id=PutObject"), data=b"payload",
                         auth=SIGNED, headers={"x-amz-checksum-crc32": crc32(b"other")})
    assert wrong.status_code == 400 and code_of(wrong) == "BadDigest", wrong.text
    assert not stored(s3, "x.bin")
    right = requests.put(url("x.bin", "x-id=PutObject"), data=b"payload",
                         auth=SIGNED, headers={"x-amz-checksum-crc32": crc32(b"payload")})
    assert right.status_code == 200
    assert right.headers["x-amz-checksum-crc32"] == crc32(b"payload")
    assert s3.get_object(Bucket=s3.bucket, Key="x.bin")["Body"].read() == b"payload"


def test_a_presigned_put_with_x_id_is_verified_and_keeps_no_presign_parameter(endpoint, s3):
    """A presigned URL as the JavaScript SDK makes it (``x-id`` signed in the query)."""
    path = f"/{s3.bucket}/signed.bin?x-id=PutObject"
    signed = presign(endpoint, "PUT", path, {"x-amz-checksum-crc32": crc32(b"other")})
    wrong = requests.put(signed, data=b"payload", headers={"x-amz-checksum-crc32": crc32(b"other")})
    assert wrong.status_code == 400 and code_of(wrong) == "BadDigest", wrong.text
    assert not stored(s3, "signed.bin")
    ok = requests.put(presign(endpoint, "PUT", path), data=b"payload")
    assert ok.status_code == 200, ok.text
    head = s3.head_object(Bucket=s3.bucket, Key="signed.bin")
    assert "Expires" not in head and head["ContentLength"] == 7


def test_an_upload_part_with_x_id_is_verified(s3, url):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="p", ChecksumAlgorithm="CRC32")["UploadId"]
    wrong = requests.put(url("p", f"x-id=UploadPart&partNumber=1&uploadId={upload_id}"), data=b"part",
                         auth=SIGNED, headers={"x-amz-checksum-crc32": crc32(b"trap")})
    assert wrong.status_code == 400 and code_of(wrong) == "BadDigest", wrong.text
    ok = requests.put(url("p", f"x-id=UploadPart&partNumber=1&uploadId={upload_id}"), data=b"part",
                      auth=SIGNED)
    assert ok.status_code == 200 and ok.headers["x-amz-checksum-crc32"] == crc32(b"part")


# --- 3. ranged GETs ---------------------------------------------------------------------------

@pytest.mark.parametrize("header,first,last", [("bytes=0-9", 0, 9), ("bytes=100-", 100, 999),
                                               ("bytes=-10", 990, 999), ("bytes=995-5000", 995, 999)])
def test_a_ranged_get_answers_the_range_without_the_whole_objects_checksum(s3, url, header, first, last):
    """206 with Content-Range and the bytes asked for; the object's checksum is not the range's,
    so it is not sent (GET; boto3's download_file checked it against each range: before, it
    failed with FlexibleChecksumError)."""
    body = os.urandom(1000)
    s3.put_object(Bucket=s3.bucket, Key="r", Body=body, ChecksumCRC32=crc32(body))
    got = requests.get(url("r"), auth=SIGNED, headers={"Range": header, "x-amz-checksum-mode": "ENABLED"})
    assert got.status_code == 206
    assert got.content == body[first:last + 1]
    assert got.headers["Content-Range"] == f"bytes {first}-{last}/1000"
    assert int(got.headers["Content-Length"]) == last - first + 1
    assert not [h for h in got.headers if h.lower().startswith("x-amz-checksum")]
    whole = requests.get(url("r"), auth=SIGNED, headers={"x-amz-checksum-mode": "ENABLED"})
    assert whole.headers["x-amz-checksum-crc32"] == crc32(body)


def test_an_unsatisfiable_range_gets_416(s3, url):
    s3.put_object(Bucket=s3.bucket, Key="r", Body=b"0123456789")
    got = requests.get(url("r"), auth=SIGNED, headers={"Range": "bytes=50-60"})
    assert got.status_code == 416 and code_of(got) == "InvalidRange"


# --- 4. Content-MD5 ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,code", [
    (b64(hashlib.md5(b"other").digest()), "BadDigest"),
    ("not base64!", "InvalidDigest"),
    (b64(b"short"), "InvalidDigest"),
    ("", "InvalidDigest"),
])
def test_content_md5_is_checked_on_put_object(s3, url, value, code):
    """ERRORS: BadDigest "The Content-MD5 you specified did not match what we received.",
    InvalidDigest "The Content-MD5 you specified is not valid."; nothing is stored."""
    answer = requests.put(url("md5"), data=b"payload", auth=SIGNED, headers={"Content-MD5": value})
    assert answer.status_code == 400 and code_of(answer) == code, answer.text
    assert not stored(s3, "md5")


def test_content_md5_is_checked_on_presigned_put_and_upload_part(s3, url):
    good = b64(hashlib.md5(b"payload").digest())
    signed = s3.generate_presigned_url("put_object", Params={"Bucket": s3.bucket, "Key": "pre",
                                                             "ContentMD5": good})
    bad = requests.put(signed, data=b"tampered", headers={"Content-MD5": good})
    assert bad.status_code == 400 and code_of(bad) == "BadDigest", bad.text
    assert not stored(s3, "pre")
    assert requests.put(signed, data=b"payload", headers={"Content-MD5": good}).status_code == 200
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="mp")["UploadId"]
    err = client_error(lambda: s3.upload_part(Bucket=s3.bucket, Key="mp", UploadId=upload_id,
                                              PartNumber=1, Body=b"part", ContentMD5=good))
    assert err["Error"]["Code"] == "BadDigest"
    assert s3.list_parts(Bucket=s3.bucket, Key="mp", UploadId=upload_id).get("Parts", []) == []


# --- 5. checksums -----------------------------------------------------------------------------

def test_two_checksum_headers_are_refused(s3, url):
    answer = requests.put(url("two"), data=b"x", auth=SIGNED, headers={
        "x-amz-checksum-crc32": crc32(b"x"), "x-amz-checksum-sha256": b64(hashlib.sha256(b"x").digest())})
    assert answer.status_code == 400 and code_of(answer) == "InvalidRequest"
    assert field(answer, "Message") == ("Expecting a single x-amz-checksum- header. Multiple "
                                        "checksum Types are not allowed.")
    assert not stored(s3, "two")


def test_an_unknown_checksum_algorithm_is_refused(s3, url):
    answer = requests.put(url("md5alg"), data=b"x", auth=SIGNED, headers={"x-amz-sdk-checksum-algorithm": "MD5"})
    assert answer.status_code == 400 and code_of(answer) == "InvalidRequest"
    assert field(answer, "Message") == "Value for x-amz-sdk-checksum-algorithm header is invalid."
    created = requests.post(url("mp", "uploads"), auth=SIGNED, headers={"x-amz-checksum-algorithm": "MD5"})
    assert created.status_code == 400 and code_of(created) == "InvalidRequest"
    assert not stored(s3, "md5alg")


def test_a_part_checksum_of_another_algorithm_than_the_uploads_is_refused(s3):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="mp", ChecksumAlgorithm="CRC32")["UploadId"]
    err = client_error(lambda: s3.upload_part(
        Bucket=s3.bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part",
        ChecksumSHA256=b64(hashlib.sha256(b"part").digest())))
    assert err["Error"]["Code"] == "InvalidRequest"
    assert err["Error"]["Message"] == ("Checksum Type mismatch occurred, expected checksum Type: crc32, "
                                       "actual checksum Type: sha256")


def _two_part_upload(s3, key, **create):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key=key, **create)["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(1234)]
    listed = []
    for number, data in enumerate(parts, 1):
        answer = s3.upload_part(Bucket=s3.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        entry = {"PartNumber": number, "ETag": answer["ETag"]}
        entry.update({k: v for k, v in answer.items() if k.startswith("Checksum")})
        listed.append(entry)
    return upload_id, parts, listed


def test_a_full_object_crc_multipart_upload_gets_the_crc_of_the_whole_object(s3):
    """CRC32 with ChecksumType FULL_OBJECT: the object's checksum is the CRC32 of all its
    bytes (CHECKSUM, "Using full object checksums for multipart upload")."""
    upload_id, parts, listed = _two_part_upload(s3, "full", ChecksumAlgorithm="CRC32",
                                                ChecksumType="FULL_OBJECT")
    whole = b"".join(parts)
    done = s3.complete_multipart_upload(Bucket=s3.bucket, Key="full", UploadId=upload_id,
                                        MultipartUpload={"Parts": listed}, ChecksumCRC32=crc32(whole),
                                        ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32"] == crc32(whole) and done["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=s3.bucket, Key="full", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32(whole) and head["ChecksumType"] == "FULL_OBJECT"


def test_a_multipart_upload_without_a_checksum_gets_the_default_crc64nvme(s3):
    upload_id, parts, listed = _two_part_upload(s3, "plain")
    done = s3.complete_multipart_upload(Bucket=s3.bucket, Key="plain", UploadId=upload_id,
                                        MultipartUpload={"Parts": listed})
    assert done["ChecksumCRC64NVME"] == checksum_of("crc64nvme", b"".join(parts))
    assert done["ChecksumType"] == "FULL_OBJECT"


def test_a_wrong_object_checksum_in_complete_is_refused_and_the_upload_stays(s3):
    upload_id, parts, listed = _two_part_upload(s3, "sha", ChecksumAlgorithm="SHA256")
    err = client_error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="sha", UploadId=upload_id, MultipartUpload={"Parts": listed},
        ChecksumSHA256=b64(hashlib.sha256(b"not it").digest())))
    assert err["Error"]["Code"] == "BadDigest"
    assert not stored(s3, "sha")
    done = s3.complete_multipart_upload(Bucket=s3.bucket, Key="sha", UploadId=upload_id,
                                        MultipartUpload={"Parts": listed})
    assert done["ChecksumSHA256"].endswith("-2") and done["ChecksumType"] == "COMPOSITE"


def test_full_object_is_refused_for_sha256(s3):
    err = client_error(lambda: s3.create_multipart_upload(
        Bucket=s3.bucket, Key="x", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"))
    assert err["Error"]["Code"] == "InvalidRequest"


# --- 6. multipart -----------------------------------------------------------------------------

def test_a_retried_complete_gets_the_same_answer(s3):
    """A Complete whose answer was lost is retried by the SDKs; S3 answers 200 again (MPU)."""
    upload_id, parts, listed = _two_part_upload(s3, "again")
    first = s3.complete_multipart_upload(Bucket=s3.bucket, Key="again", UploadId=upload_id,
                                         MultipartUpload={"Parts": listed})
    second = s3.complete_multipart_upload(Bucket=s3.bucket, Key="again", UploadId=upload_id,
                                          MultipartUpload={"Parts": listed})
    assert second["ETag"] == first["ETag"] and second["Location"] == first["Location"]


def test_complete_with_no_parts_is_an_invalid_request(s3, url):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="none")["UploadId"]
    answer = requests.post(url("none", f"uploadId={upload_id}"), auth=SIGNED,
                           data=b"<CompleteMultipartUpload></CompleteMultipartUpload>")
    assert answer.status_code == 400 and code_of(answer) == "InvalidRequest"
    assert field(answer, "Message") == "You must specify at least one part"


def test_entity_too_small_and_invalid_part_carry_s3s_fields(s3):
    """ERRORS: EntityTooSmall with ProposedSize, MinSizeAllowed, PartNumber and ETag;
    InvalidPart with UploadId, PartNumber and ETag."""
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="small")["UploadId"]
    etags = [s3.upload_part(Bucket=s3.bucket, Key="small", UploadId=upload_id, PartNumber=n,
                            Body=b"x" * 100)["ETag"] for n in (1, 2)]
    small = client_error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="small", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]}))
    assert small["Error"]["Code"] == "EntityTooSmall"
    # The wording real S3 sends (recorded 2026-02; tests/conformance/test_conformance_s3_calls.py)
    assert small["Error"]["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    assert small["Error"]["ProposedSize"] == "100" and small["Error"]["MinSizeAllowed"] == str(5 * MiB)
    assert small["Error"]["PartNumber"] == "1" and small["Error"]["ETag"] == etags[0].strip('"')
    missing = client_error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="small", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": etags[0]}]}))
    assert missing["Error"]["Code"] == "InvalidPart"
    assert missing["Error"]["PartNumber"] == "7" and missing["Error"]["UploadId"] == upload_id
    assert missing["Error"]["ETag"] == etags[0]


# --- 7. conditional writes --------------------------------------------------------------------

def test_if_none_match_star_writes_only_a_new_key(s3):
    """CONDITIONAL: an existing key fails with 412 PreconditionFailed."""
    s3.put_object(Bucket=s3.bucket, Key="once", Body=b"first", IfNoneMatch="*")
    err = client_error(lambda: s3.put_object(Bucket=s3.bucket, Key="once", Body=b"second", IfNoneMatch="*"))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 412 and err["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=s3.bucket, Key="once")["Body"].read() == b"first"


def test_if_match_writes_only_over_that_etag(s3):
    etag = s3.put_object(Bucket=s3.bucket, Key="v", Body=b"one")["ETag"]
    s3.put_object(Bucket=s3.bucket, Key="v", Body=b"two", IfMatch=etag)
    err = client_error(lambda: s3.put_object(Bucket=s3.bucket, Key="v", Body=b"three", IfMatch=etag))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket=s3.bucket, Key="v")["Body"].read() == b"two"
    gone = client_error(lambda: s3.put_object(Bucket=s3.bucket, Key="nothing", Body=b"x", IfMatch=etag))
    assert gone["Error"]["Code"] == "NoSuchKey"


def test_complete_with_if_none_match_fails_when_the_key_appeared(s3):
    upload_id, parts, listed = _two_part_upload(s3, "race")
    s3.put_object(Bucket=s3.bucket, Key="race", Body=b"meanwhile")
    err = client_error(lambda: s3.complete_multipart_upload(
        Bucket=s3.bucket, Key="race", UploadId=upload_id, MultipartUpload={"Parts": listed}, IfNoneMatch="*"))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket=s3.bucket, Key="race")["Body"].read() == b"meanwhile"


# --- 8. a bucket that does not exist ----------------------------------------------------------

def test_a_bucket_that_does_not_exist_is_no_such_bucket_for_anyone(endpoint, aws, name):
    """ERRORS: NoSuchBucket (404) "The specified bucket does not exist"."""
    anonymous = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                             config=Config(signature_version=UNSIGNED))
    for client in (aws("s3"), anonymous):
        err = client_error(lambda: client.put_object(Bucket=f"{name}-absent", Key="k", Body=b"x"))
        assert err["Error"]["Code"] == "NoSuchBucket" and err["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert err["Error"]["BucketName"] == f"{name}-absent"
    answer = requests.get(f"{endpoint}/{name}-absent/k")
    assert answer.status_code == 404 and code_of(answer) == "NoSuchBucket"


# --- 9. condition keys of bucket policies -----------------------------------------------------

@pytest.fixture
def anonymous(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED))


def _policy(s3, *statements):
    s3.put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", **stmt} for stmt in statements]}))


def test_an_s3_prefix_policy_allows_the_listing_it_names(s3, anonymous):
    """KEYS: s3:prefix (ListBucket)."""
    s3.put_object(Bucket=s3.bucket, Key="public/a", Body=b"a")
    _policy(s3, {"Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{s3.bucket}",
                 "Condition": {"StringEquals": {"s3:prefix": "public/"}}})
    listed = anonymous.list_objects_v2(Bucket=s3.bucket, Prefix="public/")
    assert [o["Key"] for o in listed["Contents"]] == ["public/a"]
    assert client_error(lambda: anonymous.list_objects_v2(Bucket=s3.bucket))["Error"]["Code"] == "AccessDenied"


def test_existing_and_request_object_tags_are_condition_keys(s3, anonymous):
    """KEYS: s3:ExistingObjectTag/<key> (GetObject), s3:RequestObjectTag/<key> (PutObject)."""
    s3.put_object(Bucket=s3.bucket, Key="open", Body=b"o", Tagging="visibility=public")
    s3.put_object(Bucket=s3.bucket, Key="closed", Body=b"c", Tagging="visibility=private")
    _policy(s3, {"Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{s3.bucket}/*",
                 "Condition": {"StringEquals": {"s3:ExistingObjectTag/visibility": "public"}}},
            {"Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{s3.bucket}/*",
             "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "blue"}}})
    assert anonymous.get_object(Bucket=s3.bucket, Key="open")["Body"].read() == b"o"
    assert client_error(lambda: anonymous.get_object(Bucket=s3.bucket, Key="closed"))["Error"]["Code"] == "AccessDenied"
    anonymous.put_object(Bucket=s3.bucket, Key="tagged", Body=b"t", Tagging="team=blue")
    refused = client_error(lambda: anonymous.put_object(Bucket=s3.bucket, Key="untagged", Body=b"u"))
    assert refused["Error"]["Code"] == "AccessDenied"


def test_the_copy_source_is_a_condition_key(s3, anonymous):
    """KEYS: s3:x-amz-copy-source (CopyObject), "bucket/key" as the request names it."""
    s3.put_object(Bucket=s3.bucket, Key="templates/a", Body=b"t")
    s3.put_object(Bucket=s3.bucket, Key="secret/b", Body=b"s")
    _policy(s3, {"Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{s3.bucket}/*"},
            {"Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{s3.bucket}/*",
             "Condition": {"StringLike": {"s3:x-amz-copy-source": f"{s3.bucket}/templates/*"}}})
    anonymous.copy_object(Bucket=s3.bucket, Key="copy", CopySource={"Bucket": s3.bucket, "Key": "templates/a"})
    refused = client_error(lambda: anonymous.copy_object(
        Bucket=s3.bucket, Key="copy2", CopySource={"Bucket": s3.bucket, "Key": "secret/b"}))
    assert refused["Error"]["Code"] == "AccessDenied"


# --- aws-chunked bodies with trailing checksums (the JavaScript SDK's streams) -----------------

def aws_chunked(payload: bytes, trailer: str, value: str, size: int = 64 * 1024) -> bytes:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER encoding
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html)."""
    out = b""
    for start in range(0, len(payload), size):
        piece = payload[start:start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + f"0\r\n{trailer}:{value}\r\n\r\n".encode()


def chunked_headers(payload: bytes) -> dict:
    return {"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(len(payload))}


def test_a_trailing_checksum_is_verified_and_the_body_decoded(s3, url):
    """CHECKSUM ("Using trailing checksums"): S3 decodes the chunks and checks the trailer.
    Before: the trailer was not checked (a wrong one was stored with 200)."""
    payload = os.urandom(200 * 1024 + 7)
    wrong = requests.put(url("t", "x-id=PutObject"), auth=SIGNED, headers=chunked_headers(payload),
                         data=aws_chunked(payload, "x-amz-checksum-crc32", crc32(b"other")))
    assert wrong.status_code == 400 and code_of(wrong) == "BadDigest", wrong.text
    assert not stored(s3, "t")
    right = requests.put(url("t", "x-id=PutObject"), auth=SIGNED, headers=chunked_headers(payload),
                         data=aws_chunked(payload, "x-amz-checksum-crc32", crc32(payload)))
    assert right.status_code == 200, right.text
    assert right.headers["x-amz-checksum-crc32"] == crc32(payload)
    got = s3.get_object(Bucket=s3.bucket, Key="t", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload and got["ChecksumCRC32"] == crc32(payload)
    assert "ContentEncoding" not in got  # aws-chunked is not the object's encoding


def test_a_trailing_part_checksum_is_verified(s3, url):
    upload_id = s3.create_multipart_upload(Bucket=s3.bucket, Key="tp", ChecksumAlgorithm="CRC32")["UploadId"]
    part = os.urandom(1000)
    target = url("tp", f"partNumber=1&uploadId={upload_id}&x-id=UploadPart")
    wrong = requests.put(target, auth=SIGNED, headers=chunked_headers(part),
                         data=aws_chunked(part, "x-amz-checksum-crc32", crc32(b"x")))
    assert wrong.status_code == 400 and code_of(wrong) == "BadDigest"
    right = requests.put(target, auth=SIGNED, headers=chunked_headers(part),
                         data=aws_chunked(part, "x-amz-checksum-crc32", crc32(part)))
    assert right.status_code == 200 and right.headers["x-amz-checksum-crc32"] == crc32(part)


def test_a_checksum_hoisted_into_a_presigned_query_is_ignored(endpoint, s3):
    """The AWS SDK for JavaScript v3 (3.729+) signs the CRC32 of an empty body into a presigned
    PUT URL (x-amz-checksum-crc32=AAAAAA==, x-amz-sdk-checksum-algorithm=CRC32). "Amazon S3
    presigned URLs don't support using the following data-integrity checksum algorithms"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html): S3
    ignores them (as LocalStack's AWS-validated parity found, localstack/localstack#12169), so
    such a URL uploads any body, and no checksum from the query is stored."""
    path = f"/{s3.bucket}/hoisted.bin?x-id=PutObject&x-amz-sdk-checksum-algorithm=CRC32&x-amz-checksum-crc32="
    response = requests.put(presign(endpoint, "PUT", path + requests.utils.quote(crc32(b""), safe="")),
                            data=b"payload")
    assert response.status_code == 200, response.text
    assert response.headers.get("x-amz-checksum-crc32") != crc32(b"")
    assert stored(s3, "hoisted.bin")

def test_an_older_version_is_read_and_written_over_when_the_current_one_is_a_delete_marker_GET(s3):
    """In a versioned bucket, deleting a key makes a delete marker its current version; GET with
    the VersionId of an older version still returns that version (GET), and a conditional PUT
    with If-None-Match: * finds no current object (CONDITIONAL). The local AWS's bucket-policy
    keys and conditional writes read the current version: a marker has no tags or ETag."""
    s3.put_bucket_versioning(Bucket=s3.bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=s3.bucket, Key="k.txt", Body=b"old")
    s3.delete_object(Bucket=s3.bucket, Key="k.txt")
    assert s3.get_object(Bucket=s3.bucket, Key="k.txt", VersionId=old["VersionId"])["Body"].read() == b"old"
    assert client_error(lambda: s3.get_object(Bucket=s3.bucket, Key="k.txt"))["Error"]["Code"] == "NoSuchKey"
    s3.put_object(Bucket=s3.bucket, Key="k.txt", Body=b"new", IfNoneMatch="*")
    assert s3.get_object(Bucket=s3.bucket, Key="k.txt")["Body"].read() == b"new"
