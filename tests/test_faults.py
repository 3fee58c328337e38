"""Faults on the upload paths: each gives AWS's answer (or a clear message) and loses nothing
already stored.

ERRORS   https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
         (function error or malformed proxy response: 502; integration timeout: 504)
MALFORMED https://repost.aws/knowledge-center/malformed-502-api-gateway
CF5XX    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-5xx-errors.html
         (Lambda@Edge exception or timeout: 503 LambdaExecutionError)
S3ERR    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (500 InternalError)
RETRY    https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html (5xx are retried)
"""
from __future__ import annotations

import errno
import hashlib
import logging
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

import helpers as wb
from test_apigateway_lambda_proxy import LambdaApi
from test_cloudfront_data_plane import site  # noqa: F401 (the fixture)

pytestmark = pytest.mark.fault
MiB = 1024 * 1024
KEEP = b"stored before the fault " * 1000

FAULTY = '''
import json, os, time
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    mode = event["pathParameters"]["id"]
    if mode == "crash":
        raise ValueError("the handler crashed (injected)")
    if mode == "slow":
        time.sleep(5)
    if mode == "malformed":
        return ["not", "a", "proxy", "response"]
    if mode == "write":
        s3.put_object(Bucket=os.environ["BUCKET"], Key="from-lambda.txt", Body=event["body"] or "")
    return {"statusCode": 200, "body": json.dumps({"mode": mode})}
'''


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def target(local_aws):
    return wb.connect("local", endpoint_url=local_aws.endpoint_url, start=False)


@pytest.fixture(scope="module")
def proxy(target):
    prefix = wb.unique_prefix()
    api = wb.build_s3_proxy_api(target, prefix)
    target.client("s3").put_object(Bucket=api.bucket, Key="keep.bin", Body=KEEP)
    yield api
    wb.clean_up(target, prefix)


def kept(target, bucket, key="keep.bin", expected=KEEP):
    body = target.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return sha(body) == sha(expected)


@pytest.fixture
def faulty_api(aws, endpoint, make_function, name):
    """A Lambda proxy API whose handler crashes, hangs, answers nonsense or writes, on demand."""
    aws("s3").create_bucket(Bucket=f"{name}-data")
    aws("s3").put_object(Bucket=f"{name}-data", Key="keep.bin", Body=KEEP)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}

    def build(*, timeout=3, timeout_ms=None):
        fn = make_function(FAULTY, Timeout=timeout, policy=policy,
                           Environment={"Variables": {"BUCKET": f"{name}-data"}})
        api = LambdaApi(aws, endpoint, fn, timeout_ms=timeout_ms)
        api.bucket = f"{name}-data"
        return api
    return build


def data_intact(aws, bucket):
    return aws("s3").get_object(Bucket=bucket, Key="keep.bin")["Body"].read() == KEEP


# --- the function behind API Gateway ----------------------------------------------------------

def test_handler_crash_gives_502_and_the_next_call_works_ERRORS(faulty_api, aws):
    api = faulty_api()
    response = requests.post(f"{api.base}/items/crash", data="x")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert "Traceback" not in response.text and "injected" not in response.text
    assert requests.post(f"{api.base}/items/write", data="after").status_code == 200
    assert data_intact(aws, api.bucket)


def test_handler_timeout_gives_502_function_error_ERRORS(faulty_api, aws):
    api = faulty_api(timeout=1)
    started = time.monotonic()
    response = requests.post(f"{api.base}/items/slow", data="x")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert time.monotonic() - started < 4.5
    assert requests.post(f"{api.base}/items/ok", data="x").json() == {"mode": "ok"}  # a new environment
    assert data_intact(aws, api.bucket)


def test_integration_timeout_gives_504_ERRORS(faulty_api, aws):
    api = faulty_api(timeout=10, timeout_ms=1000)
    response = requests.post(f"{api.base}/items/slow", data="x")
    assert (response.status_code, response.json()) == (504, {"message": "Endpoint request timed out"})
    assert data_intact(aws, api.bucket)


def test_malformed_handler_response_gives_502_MALFORMED(faulty_api, aws):
    api = faulty_api()
    response = requests.post(f"{api.base}/items/malformed", data="x")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert data_intact(aws, api.bucket)


# --- the edge function ------------------------------------------------------------------------

EDGE_CRASH = '''
def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    if request["uri"].endswith("/crash.bin"):
        raise RuntimeError("the edge function crashed (injected)")
    if request["uri"].endswith("/slow.bin"):
        import time; time.sleep(3)
    if request["uri"].endswith("/invalid.bin"):
        return {"status": "200", "headers": {"x-bad": "not a list"}}
    return request
'''


@pytest.fixture
def cf_site(site, aws):
    """A distribution (OAC, put-only) whose viewer-request function fails on demand."""
    built = site(edge_source=EDGE_CRASH, access="oac", timeout=1)
    aws("s3").put_object(Bucket=built.bucket, Key="keep.bin", Body=KEEP)
    return built


def cf_keys(aws, site):
    return site.keys()


def cf_intact(aws, site):
    return data_intact(aws, site.bucket)


def test_edge_function_exception_gives_503_and_stores_nothing_CF5XX(cf_site, aws):
    response = requests.put(f"{cf_site.url}/crash.bin", data=b"payload")
    assert response.status_code == 503 and "LambdaExecutionError" in response.headers.get("X-Cache", "")
    assert "Traceback" not in response.text and "injected" not in response.text
    assert cf_keys(aws, cf_site) == ["keep.bin"] and cf_intact(aws, cf_site)


def test_edge_function_timeout_gives_503_CF5XX(cf_site, aws):
    response = requests.put(f"{cf_site.url}/slow.bin", data=b"payload")
    assert response.status_code == 503 and "LambdaExecutionError" in response.headers.get("X-Cache", "")
    assert cf_keys(aws, cf_site) == ["keep.bin"] and cf_intact(aws, cf_site)


def test_edge_function_invalid_output_gives_502_CF5XX(cf_site, aws):
    response = requests.put(f"{cf_site.url}/invalid.bin", data=b"payload")
    assert response.status_code == 502 and "LambdaValidationError" in response.headers.get("X-Cache", "")
    assert cf_keys(aws, cf_site) == ["keep.bin"] and cf_intact(aws, cf_site)
    assert requests.put(f"{cf_site.url}/fine.bin", data=b"payload").status_code == 200


# --- the client goes away mid-body ------------------------------------------------------------

def send_half(url: str, declared: int, sent: int, method: str = "PUT", headers: dict | None = None) -> None:
    """Send the request line, headers and ``sent`` of ``declared`` body bytes, then hang up."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {declared}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\1" * sent)
    time.sleep(0.3)  # let the server notice


def test_client_disconnecting_mid_body_on_the_direct_proxy_stores_nothing(proxy, target, caplog):
    s3 = target.client("s3")
    s3.put_object(Bucket=proxy.bucket, Key="keep-proxy.bin", Body=KEEP)  # its own: the bug overwrites it
    before = wb.list_keys(proxy.bucket, s3=s3)
    try:
        send_half(proxy.upload_url("keep-proxy.bin"), 1_000_000, 100_000,
                  headers={"x-api-key": proxy.api_key, "Content-Type": "application/octet-stream"})
        send_half(proxy.upload_url("half.bin"), 1_000_000, 100_000,
                  headers={"x-api-key": proxy.api_key, "Content-Type": "application/octet-stream"})
        assert wb.list_keys(proxy.bucket, s3=s3) == before
        assert kept(target, proxy.bucket, "keep-proxy.bin")
    finally:
        for key in ("half.bin", "keep-proxy.bin"):
            s3.delete_object(Bucket=proxy.bucket, Key=key)
    # The local AWS goes on serving.
    ok = requests.put(proxy.upload_url("after.bin"), data=b"ok",
                      headers={"x-api-key": proxy.api_key, "Content-Type": "application/octet-stream"})
    assert ok.status_code == 200


def test_client_disconnecting_mid_body_on_a_presigned_put_stores_nothing(proxy, target):
    s3 = target.client("s3")
    for key in ("keep.bin", "half-presigned.bin"):
        url = s3.generate_presigned_url("put_object", Params={"Bucket": proxy.bucket, "Key": key}, HttpMethod="PUT")
        send_half(url, 2_000_000, 300_000)
    for algorithm_url in [s3.generate_presigned_url(
            "put_object", Params={"Bucket": proxy.bucket, "Key": "keep.bin", "ChecksumSHA256": "A" * 43 + "="},
            HttpMethod="PUT")]:
        send_half(algorithm_url, 2_000_000, 300_000, headers={"x-amz-checksum-sha256": "A" * 43 + "="})
    assert "half-presigned.bin" not in wb.list_keys(proxy.bucket, s3=s3)
    assert kept(target, proxy.bucket)


def test_a_client_hanging_up_is_not_logged_as_an_internal_error(proxy, target, caplog):
    s3 = target.client("s3")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": proxy.bucket, "Key": "hangup.bin"},
                                    HttpMethod="PUT")
    with caplog.at_level(logging.ERROR, logger="localaws"):
        send_half(url, 2_000_000, 300_000)
    assert "hangup.bin" not in wb.list_keys(proxy.bucket, s3=s3)
    assert "internal error" not in caplog.text


# --- a part fails, then the retry succeeds ------------------------------------------------------

@pytest.fixture(scope="module")
def multipart(target):
    prefix = wb.unique_prefix()
    api = wb.build_multipart_api(target, prefix, part_size=5 * MiB)
    yield api
    wb.clean_up(target, prefix)


def test_a_part_failing_with_an_S3_500_is_retried_and_the_object_is_byte_exact_RETRY(
        multipart, target, tmp_path, monkeypatch):
    from localaws.s3 import integrity

    original = integrity.Integrity.upload_part
    failures = []

    def flaky(self, environ, start_response, app, bucket, query):
        if query.get("partNumber") == "2" and not failures:
            failures.append(query)
            raise RuntimeError("storage hiccup (injected)")
        return original(self, environ, start_response, app, bucket, query)
    monkeypatch.setattr(integrity.Integrity, "upload_part", flaky)
    path = wb.make_sample_file(tmp_path / "retry.bin", 11 * MiB + 5, seed=3)
    done = wb.multipart_upload(multipart.invoke_url, path, progress=False)
    assert len(failures) == 1
    assert wb.object_sha256(multipart.bucket, done["key"], s3=target.client("s3")) == wb.sha256_file(path)
    assert done["checksumSHA256"] == done["expectedChecksumSHA256"]


# --- a full disk, or another write error, in the storage ----------------------------------------

def test_a_write_error_in_storage_gives_S3_500_InternalError_and_no_partial_object_S3ERR(
        proxy, target, monkeypatch, caplog):
    from moto.s3.models import FakeKey

    s3 = target.client("s3")

    def full_disk(self, value):
        raise OSError(errno.ENOSPC, "No space left on device (injected)")
    monkeypatch.setattr(FakeKey, "value", property(FakeKey.value.fget, full_disk))
    def url(key):
        return s3.generate_presigned_url("put_object", Params={"Bucket": proxy.bucket, "Key": key},
                                         HttpMethod="PUT")
    before = wb.list_keys(proxy.bucket, s3=s3)
    with caplog.at_level(logging.ERROR, logger="localaws"):
        overwrite = requests.put(url("keep.bin"), data=b"new bytes")
        new = requests.put(url("full.bin"), data=b"new bytes")
        via_api = requests.put(proxy.upload_url("full-api.bin"), data=b"new bytes",
                               headers={"x-api-key": proxy.api_key, "Content-Type": "application/octet-stream"})
    for response in (overwrite, new):
        assert response.status_code == 500, response.text
        assert "<Code>InternalError</Code>" in response.text and "Traceback" not in response.text
        assert "injected" not in response.text
    assert via_api.status_code == 500 and "Traceback" not in via_api.text  # the 5\d{2} integration response
    monkeypatch.undo()
    assert wb.list_keys(proxy.bucket, s3=s3) == before
    assert kept(target, proxy.bucket)
    assert "No space left on device" in caplog.text  # logged for whoever runs the local AWS


# --- the local AWS went away mid-workbook -------------------------------------------------------

def test_local_aws_restarted_mid_workbook_says_what_happened_and_how_to_go_on(tmp_path):
    """The local AWS stops mid-workbook (here one served from a thread, stopped; for a learner the
    process `make lab` started, ended or restarted): the next helper call says what happened and
    how to go on. Started again (a new process, as the notebook's first cell does with
    ensure_running), it answers, empty, and re-running the cells creates everything again."""
    import os
    import signal

    import localaws as local

    server = local.start(port=0)
    endpoint = server.endpoint_url
    target = wb.connect("local", endpoint_url=endpoint, start=False)
    bucket = wb.create_upload_bucket(f"{wb.unique_prefix()}-b", s3=target.client("s3"), prefix="x")["bucket"]
    server.stop()
    started = time.monotonic()
    with pytest.raises(wb.LocalAWSError) as err:
        wb.list_keys(bucket, s3=target.client("s3"))
    assert time.monotonic() - started < 10
    message = str(err.value)
    assert "not answering" in message and "re-run this notebook from the top" in message
    assert "make lab" in message and "in memory" in message
    sample = wb.make_sample_file(tmp_path / "a.bin", 10)
    with pytest.raises(wb.WorkbookError) as upload_err:
        wb.upload_file(f"{endpoint}/{bucket}/a.bin", sample, progress=False)
    assert "local AWS" in str(upload_err.value)
    with pytest.raises(wb.ConfigurationError) as config_err:
        wb.connect("local", endpoint_url=endpoint, start=False)
    assert "make lab" in str(config_err.value)
    again = local.ensure_running(endpoint)
    try:
        assert again["started"]
        target = wb.connect("local", endpoint_url=endpoint)
        assert target.client("s3").list_buckets()["Buckets"] == []  # a new local AWS holds nothing
        wb.create_upload_bucket(bucket, s3=target.client("s3"), prefix="x")
        assert wb.list_keys(bucket, s3=target.client("s3")) == []
    finally:
        os.kill(again["pid"], signal.SIGTERM)
