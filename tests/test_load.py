"""Load: 64 concurrent uploads through each path land byte-exact (SHA-256 compared), and the
local AWS itself reports no error (no 5xx, nothing logged as an internal error).

The bytes of the 64 uploads move concurrently on every path. The calls to the Lambda-backed APIs
that hand out URLs (grant, start, part URLs, complete, POST forms) are made by 8 threads: each
concurrent first call starts a new execution environment (a Python process), as on AWS, and 64 of
them at once would measure this machine's process start-up, not the upload path.
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import helpers as wb

pytestmark = pytest.mark.load
UPLOADS = 64
SIZE = 256 * 1024
SECRET = "load shared secret"


@pytest.fixture(scope="module")
def target(local_aws):
    return wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)


@pytest.fixture(scope="module")
def prefix(target):
    prefix = wb.unique_prefix()
    yield prefix
    wb.clean_up(target, prefix)


@pytest.fixture
def quiet_local_aws(caplog):
    """Fails the test if the local AWS logged an internal error while it ran."""
    with caplog.at_level(logging.ERROR, logger="localaws"):
        yield
    errors = [r.getMessage() for r in caplog.get_records("call") if r.name.startswith("localaws")
              and r.levelno >= logging.ERROR]
    assert not errors, errors[:3]


def payloads(seed: int) -> dict[str, bytes]:
    return {f"load-{seed}-{i:02d}.bin": os.urandom(SIZE) for i in range(UPLOADS)}


def concurrently(function, items, workers=UPLOADS):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def check_landed(s3, bucket, expected: dict[str, bytes]) -> None:
    """Every object is there with the SHA-256 of what was sent."""
    def digest(key):
        return hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    got = dict(zip(expected, concurrently(digest, list(expected), workers=8)))
    assert got == {key: hashlib.sha256(data).hexdigest() for key, data in expected.items()}


def test_64_concurrent_uploads_through_the_direct_proxy(target, prefix, reliability, quiet_local_aws):
    api = wb.build_s3_proxy_api(target, f"{prefix}p")
    sent = payloads(1)
    statuses = concurrently(lambda key: requests.put(
        api.upload_url(key), data=sent[key], timeout=120,
        headers={"x-api-key": api.api_key, "Content-Type": "application/octet-stream"}).status_code, list(sent))
    reliability("load", len(statuses))
    assert statuses == [200] * UPLOADS
    check_landed(target.client("s3"), api.bucket, sent)
    wb.clean_up(target, f"{prefix}p")


def test_64_concurrent_presigned_puts(target, prefix, reliability, quiet_local_aws):
    api = wb.build_presign_api(target, f"{prefix}s")
    sent = payloads(2)
    grants = dict(zip(sent, concurrently(
        lambda key: wb.request_upload_url(api.grant_url(key), content_type="application/octet-stream"),
        list(sent), workers=8)))
    statuses = concurrently(lambda key: requests.put(
        grants[key]["url"], data=sent[key], headers=grants[key]["headers"], timeout=120).status_code, list(sent))
    reliability("load", len(statuses))
    assert statuses == [200] * UPLOADS
    check_landed(target.client("s3"), api.bucket, {grants[k]["key"]: v for k, v in sent.items()})
    wb.clean_up(target, f"{prefix}s")


def test_64_concurrent_multipart_uploads(target, prefix, reliability, quiet_local_aws):
    api = wb.build_multipart_api(target, f"{prefix}m", max_post_bytes=SIZE)
    sent = payloads(3)
    session = requests.Session()

    def start(name):
        data = sent[name]
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        started = session.post(f"{api.invoke_url}/uploads",
                               json={"filename": name, "size": len(data)}).json()
        part = session.post(f"{api.invoke_url}/uploads/{started['uploadId']}/parts", json={
            "key": started["key"], "parts": [{"partNumber": 1, "checksumSHA256": checksum}]}).json()["parts"][0]
        return {**started, "part": part, "checksum": checksum}
    uploads = dict(zip(sent, concurrently(start, list(sent), workers=8)))

    def put_part(name):  # the 64 concurrent uploads of the bytes
        part = uploads[name]["part"]
        response = requests.put(part["url"], data=sent[name], headers=part["headers"], timeout=120)
        uploads[name]["etag"] = response.headers.get("ETag")
        return response.status_code
    statuses = concurrently(put_part, list(sent))
    reliability("load", len(statuses))
    assert statuses == [200] * UPLOADS

    def complete(name):
        u = uploads[name]
        return session.post(f"{api.invoke_url}/uploads/{u['uploadId']}/complete", json={
            "key": u["key"], "parts": [{"partNumber": 1, "etag": u["etag"], "checksumSHA256": u["checksum"]}]})
    done = concurrently(complete, list(sent), workers=8)
    assert [r.status_code for r in done] == [200] * UPLOADS
    for name, response in zip(sent, done):
        expected = base64.b64encode(hashlib.sha256(base64.b64decode(uploads[name]["checksum"])).digest()).decode()
        assert response.json()["checksumSHA256"] == expected + "-1"  # S3's composite checksum
    s3 = target.client("s3")
    check_landed(s3, api.bucket, {uploads[k]["key"]: v for k, v in sent.items()})
    assert s3.list_multipart_uploads(Bucket=api.bucket).get("Uploads", []) == []
    wb.clean_up(target, f"{prefix}m")


def test_64_concurrent_presigned_posts(target, prefix, reliability, quiet_local_aws):
    api = wb.build_multipart_api(target, f"{prefix}f", max_post_bytes=SIZE)
    sent = payloads(4)
    forms = dict(zip(sent, concurrently(lambda name: wb.request_post_form(api.invoke_url, name), list(sent),
                                        workers=8)))

    def post(name):
        form = forms[name]
        return requests.post(form["url"], data=form["fields"], timeout=120,
                             files={"file": (name, sent[name], "application/octet-stream")}).status_code
    statuses = concurrently(post, list(sent))
    reliability("load", len(statuses))
    assert statuses == [204] * UPLOADS
    check_landed(target.client("s3"), api.bucket, {forms[k]["fields"]["key"]: v for k, v in sent.items()})
    wb.clean_up(target, f"{prefix}f")


def test_64_concurrent_uploads_through_cloudfront(target, prefix, reliability, quiet_local_aws):
    site = wb.build_cloudfront_upload(target, f"{prefix}c", secret=SECRET)
    sent = payloads(5)
    statuses = concurrently(lambda key: requests.put(
        f"{site.url}/{key}", data=sent[key], headers={"Authorization": SECRET}, timeout=120).status_code, list(sent))
    reliability("load", len(statuses))
    assert statuses == [200] * UPLOADS
    check_landed(target.client("s3"), site.bucket, sent)
    wb.clean_up(target, f"{prefix}c")
