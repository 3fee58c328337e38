"""Upload bodies stream through the local AWS: a body that breaks off stores nothing, and a large
upload does not hold the object in the server's memory. (Figures live in `make bench`; these are
bounds, generous enough to be stable.)"""
import base64
import hashlib
import os
import socket
import time
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

import helpers as wb
import localaws as local

MiB = 1024 * 1024


def signer(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def break_off(url, announced, sent):
    """Send a PUT announcing ``announced`` bytes, send ``sent`` of them, and hang up."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as conn:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.sendall(f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {announced}\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode())
        conn.sendall(os.urandom(sent))
    time.sleep(0.5)  # the server notices the hang-up


def test_a_put_that_breaks_off_mid_body_leaves_no_object(endpoint, aws, name):
    s3 = aws("s3")
    s3.create_bucket(Bucket=name)
    url = signer(endpoint).generate_presigned_url("put_object", Params={"Bucket": name, "Key": "cut.bin"},
                                                  ExpiresIn=300, HttpMethod="PUT")
    break_off(url, 10 * MiB, 3 * MiB)
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    # An object that was there before keeps its bytes when a replacement breaks off.
    s3.put_object(Bucket=name, Key="cut.bin", Body=b"kept")
    break_off(url, 10 * MiB, 2 * MiB)
    assert s3.get_object(Bucket=name, Key="cut.bin")["Body"].read() == b"kept"


def test_a_part_that_breaks_off_is_not_listed(endpoint, aws, name):
    s3 = aws("s3")
    s3.create_bucket(Bucket=name)
    upload_id = s3.create_multipart_upload(Bucket=name, Key="big")["UploadId"]
    url = signer(endpoint).generate_presigned_url("upload_part", ExpiresIn=300, HttpMethod="PUT", Params={
        "Bucket": name, "Key": "big", "UploadId": upload_id, "PartNumber": 1})
    break_off(url, 8 * MiB, 1 * MiB)
    assert s3.list_parts(Bucket=name, Key="big", UploadId=upload_id).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=name, Key="big", UploadId=upload_id)


def rss_mib(pid, field):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def own_process_aws():
    """A local AWS in its own process, so that its memory is its own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = local.ensure_running(f"http://127.0.0.1:{port}")
    yield started
    os.kill(started["pid"], 15)


def test_256_mib_uploads_and_reading_one_back_keep_the_server_s_memory_bounded(own_process_aws, tmp_path):
    endpoint, pid = own_process_aws["endpoint_url"], own_process_aws["pid"]
    target = wb.connect("local", endpoint_url=endpoint, start=False)
    s3 = target.client("s3")
    prefix = wb.unique_prefix()
    bucket = wb.create_upload_bucket(f"{prefix}-mem", s3=s3, prefix=prefix)["bucket"]
    path = wb.make_sample_file(tmp_path / "big.bin", 256 * MiB, seed=2)
    url = signer(endpoint).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "big.bin"},
                                                  ExpiresIn=300, HttpMethod="PUT")
    before = rss_mib(pid, "VmRSS")
    assert wb.upload_file(url, path, progress=False).status == 200
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="parts.bin")["UploadId"]
    etags = []
    with open(path, "rb") as f:
        for number in range(1, 9):  # presigned part URLs, as the workbook's multipart client sends
            part_url = signer(endpoint).generate_presigned_url("upload_part", ExpiresIn=300, HttpMethod="PUT",
                                                               Params={"Bucket": bucket, "Key": "parts.bin",
                                                                       "UploadId": upload_id, "PartNumber": number})
            response = requests.put(part_url, data=f.read(32 * MiB))
            assert response.status_code == 200
            etags.append(response.headers["ETag"])
    s3.complete_multipart_upload(Bucket=bucket, Key="parts.bin", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    assert wb.object_sha256(bucket, "big.bin", s3=s3) == wb.sha256_file(path)  # read back, streamed too
    # Emptying a bucket starts with ListObjectVersions (wb.delete_bucket): listing reads no body.
    listed = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted((v["Key"], v["Size"]) for v in listed) == [("big.bin", 256 * MiB), ("parts.bin", 256 * MiB)]
    grew = rss_mib(pid, "VmHWM") - before
    # Holding either object in memory would take 256 MiB at least; streaming takes a few chunks.
    assert grew < 128, f"the local AWS grew by {grew:.0f} MiB during 256 MiB uploads, a read and a listing"
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            md5.update(chunk)
    assert head["ContentLength"] == 256 * MiB and head["ETag"].strip('"') == md5.hexdigest()
    assert s3.head_object(Bucket=bucket, Key="parts.bin")["ETag"].endswith('-8"')
    wb.clean_up(target, prefix)


# --- what a streamed GetObject and a spooled PUT must keep from S3's behaviour -------------------

def signed(method, url, data=b"", headers=None):
    """A SigV4-signed request sent with requests (so boto3 adds no checksum headers of its own)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=data, headers={
        **(headers or {}), "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers.items()))


@pytest.fixture
def bucket(aws, name):
    aws("s3").create_bucket(Bucket=name)
    return name


def test_a_checksum_algorithm_without_a_value_gets_the_checksum_of_the_body_CHECKSUM(endpoint, aws, bucket):
    """x-amz-sdk-checksum-algorithm alone asks S3 to compute the checksum
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html)."""
    data = os.urandom(3 * MiB)
    response = signed("PUT", f"{endpoint}/{bucket}/k", data, {"x-amz-sdk-checksum-algorithm": "SHA256"})
    assert response.status_code == 200
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert response.headers["x-amz-checksum-sha256"] == expected
    assert aws("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == data  # boto3 validates it


def test_streamed_gets_keep_conditional_cors_and_archive_rules(endpoint, aws, bucket):
    s3 = aws("s3")
    etag = s3.put_object(Bucket=bucket, Key="o", Body=b"x" * (2 * MiB))["ETag"]
    assert signed("GET", f"{endpoint}/{bucket}/o", headers={"If-None-Match": etag.strip('"')}).status_code == 304
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"], "ExposeHeaders": ["ETag"]}]})
    cors = signed("GET", f"{endpoint}/{bucket}/o", headers={"Origin": "https://app.example"})
    assert cors.status_code == 200 and cors.headers.get("Access-Control-Expose-Headers") == "ETag"
    s3.put_object(Bucket=bucket, Key="cold", Body=b"y" * 100, StorageClass="GLACIER")
    archived = signed("GET", f"{endpoint}/{bucket}/cold")
    assert archived.status_code == 403 and "<Code>InvalidObjectState</Code>" in archived.text


def test_boto3_downloads_and_unusual_keys_are_streamed_too(aws, bucket, monkeypatch):
    from localaws import moto_bridge

    streamed = []
    original = moto_bridge.object_chunks
    monkeypatch.setattr(moto_bridge, "object_chunks", lambda *a: streamed.append(a[1]) or original(*a))
    s3 = aws("s3")
    for key in ("café 100%.bin", "plain.bin"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"z" * (2 * MiB))
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"z" * (2 * MiB)
    assert streamed == ["café 100%.bin", "plain.bin"]


def test_a_crc32_multipart_upload_gets_s3_s_composite_checksum_CHECKSUM(aws, bucket):
    import zlib

    s3 = aws("s3")
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32")["UploadId"]
    crcs = [zlib.crc32(p).to_bytes(4, "big") for p in parts]
    listed = []
    for number, (part, crc) in enumerate(zip(parts, crcs), 1):
        etag = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=number, Body=part,
                              ChecksumCRC32=base64.b64encode(crc).decode())["ETag"]
        listed.append({"PartNumber": number, "ETag": etag, "ChecksumCRC32": base64.b64encode(crc).decode()})
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload, MultipartUpload={"Parts": listed})
    expected = base64.b64encode(zlib.crc32(b"".join(crcs)).to_bytes(4, "big")).decode() + "-2"
    head = s3.head_object(Bucket=bucket, Key="m", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == expected and head["ChecksumType"] == "COMPOSITE"


def test_two_concurrent_completes_of_one_upload_give_one_object_and_no_server_error(aws, bucket):
    """The second CompleteMultipartUpload waits for the first and finds the upload completed
    (the local AWS answers NoSuchUpload, as moto does); never a server error."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    s3 = aws("s3")
    parts = [os.urandom(5 * MiB), os.urandom(3 * MiB)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="twice")["UploadId"]
    listed = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="twice", UploadId=upload,
                                                      PartNumber=n, Body=p)["ETag"]}
              for n, p in enumerate(parts, 1)]

    def complete():
        try:
            s3.complete_multipart_upload(Bucket=bucket, Key="twice", UploadId=upload,
                                         MultipartUpload={"Parts": listed})
            return "done"
        except ClientError as err:
            return err.response["Error"]["Code"]

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(lambda _: complete(), range(2)))
    assert "done" in outcomes and set(outcomes) <= {"done", "NoSuchUpload"}, outcomes
    assert s3.get_object(Bucket=bucket, Key="twice")["Body"].read() == b"".join(parts)


def test_listing_versions_gives_each_version_s_fields_and_leaves_the_objects_whole(aws, bucket):
    """ListObjectVersions (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html):
    each version with its ETag, Size and IsLatest, delete markers apart; the local AWS lists light
    copies of its keys, which must not take the objects' bytes with them when they are dropped."""
    import gc

    s3 = aws("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="a.txt", Body=b"one")
    second = s3.put_object(Bucket=bucket, Key="a.txt", Body=b"two!")
    bee = s3.put_object(Bucket=bucket, Key="b.txt", Body=b"bee")
    marker = s3.delete_object(Bucket=bucket, Key="b.txt")
    for _ in range(2):  # the second time after the first listing's copies were collected
        listed = s3.list_object_versions(Bucket=bucket)
        gc.collect()
        versions = {(v["Key"], v["VersionId"]): (v["ETag"], v["Size"], v["IsLatest"]) for v in listed["Versions"]}
        assert versions[("a.txt", second["VersionId"])] == (hashlib.md5(b"two!").hexdigest().join('""'), 4, True)
        assert versions[("a.txt", first["VersionId"])] == (hashlib.md5(b"one").hexdigest().join('""'), 3, False)
        assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
            ("b.txt", marker["VersionId"], True)]
    assert s3.get_object(Bucket=bucket, Key="a.txt", VersionId=first["VersionId"])["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"two!"
    assert s3.get_object(Bucket=bucket, Key="b.txt", VersionId=bee["VersionId"])["Body"].read() == b"bee"
