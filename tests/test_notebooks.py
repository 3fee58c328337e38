"""papermill runs each notebook headless, with parameters, against a fresh local AWS.

(nbval separately re-runs the committed notebooks and compares their stored outputs.)
"""
import os

import nbformat
import papermill
import pytest

import helpers as wb
from helpers import local

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")


@pytest.fixture
def fresh_aws(monkeypatch):
    server = local.start(port=0)
    monkeypatch.setenv("WORKBOOK_ENDPOINT_URL", server.endpoint_url)
    yield server
    server.stop()


def run(name, tmp_path, **parameters):
    out = tmp_path / name
    papermill.execute_notebook(os.path.join(NOTEBOOKS, name), str(out), parameters=parameters,
                               cwd=NOTEBOOKS, kernel_name="python3", progress_bar=False)
    nb = nbformat.read(str(out), as_version=4)
    return "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_notebook_01_uploads_the_given_file_and_cleans_up(fresh_aws, tmp_path):
    path = wb.make_sample_file(tmp_path / "holiday photo.jpg", 3 * 1024 * 1024 + 11, seed=9)
    prefix = "nb01-" + os.urandom(3).hex()
    text = run("01_api_gateway_s3_proxy.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "uploading holiday photo.jpg: 3,145,739 bytes" in text
    assert f"stored: {wb.sha256_file(path)}" in text
    assert "identical: True" in text
    assert "413 HTTP content length exceeded 10485760 bytes." in text
    assert "403 ForbiddenException Forbidden" in text
    assert "identical without */*: False" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())
    assert not [b for b in target.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(prefix)]


def test_notebook_02_uploads_through_a_presigned_url_and_cleans_up(fresh_aws, tmp_path):
    path = wb.make_sample_file(tmp_path / "clip.mp4", 11 * 1024 * 1024 + 3, seed=5)
    prefix = "nb02-" + os.urandom(3).hex()
    text = run("02_presigned_urls.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "clip.mp4: 11,534,339 bytes, video/mp4" in text
    assert "200 11,534,339 bytes sent" in text
    assert "identical: True" in text and "stored content type: video/mp4" in text
    assert "403 SignatureDoesNotMatch" in text
    assert "403 AccessDenied Request has expired" in text
    assert "is not authorized to perform: s3:PutObject" in text
    assert "in bucket: True" not in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_03_uploads_in_parts_resumes_aborts_and_cleans_up(fresh_aws, tmp_path):
    path = wb.make_sample_file(tmp_path / "archive.tar", 16 * 1024 * 1024 + 1, seed=6)
    prefix = "nb03-" + os.urandom(3).hex()
    text = run("03_multipart_uploads.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path), threads=2)
    assert "parts: 4 of 5,242,880 bytes" in text
    assert "sent before the interruption: [1, 2]" in text
    assert "S3 already has parts: [1, 2]" in text and "sent after resuming: [3, 4]" in text
    checksums = [line.split()[-1] for line in text.splitlines() if line.startswith("checksum ")]
    assert len(checksums) == 2 and checksums[0] == checksums[1] and checksums[0].endswith("-4")
    assert "identical file: True" in text
    assert "in progress after abort:  False" in text
    assert "400 True" in text and "parts stored: []" in text
    assert "400 EntityTooLarge" in text and "too-big.bin stored: False" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())


def test_notebook_04_uploads_through_cloudfront_with_lambda_edge_and_cleans_up(fresh_aws, tmp_path):
    path = wb.make_sample_file(tmp_path / "scan.pdf", 2 * 1024 * 1024 + 9, seed=12)
    prefix = "nb04-" + os.urandom(3).hex()
    text = run("04_cloudfront_lambda_edge.ipynb", tmp_path, endpoint_url=fresh_aws.endpoint_url,
               name_prefix=prefix, upload_path=str(path))
    assert "InvalidLambdaFunctionAssociation" in text
    assert "no header:    401 Unauthorized" in text and "wrong secret: 401 Unauthorized" in text
    assert "in bucket:    []" in text
    assert "right secret: 200" in text and "identical: True" in text
    assert "403 True" in text
    assert "buggy, any header: 200" in text and "fixed, any header: 401 Unauthorized" in text
    assert "valid token:   200" in text and "alg none:      401 Unauthorized" in text
    assert "expired token: 401 Unauthorized" in text and "in bucket: ['jwt.bin']" in text
    assert "left behind: {}" in text
    target = wb.connect("local", endpoint_url=fresh_aws.endpoint_url, start=False)
    assert not any(wb.find_resources(target, prefix).values())
