"""The AWS SDK for JavaScript v3 (unmodified, pinned in js/package-lock.json) against the local
AWS, in Node; every object is read back with boto3 and compared byte for byte.

Needs Node.js and npm (Debian: `apt-get install nodejs npm`; `.ci/run` installs them). The
packages are installed with `npm ci` from the lock file by the `js_sdk` fixture, once per
lock-file change. The SDK adds `?x-id=PutObject` (and `x-id=UploadPart`, ...) to its requests and
presigned URLs, signs `x-amz-checksum-crc32` (or sends it as an aws-chunked trailer for
streams) and lib-storage uploads parts four at a time: each is something S3 accepts.
References: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/ and the S3 API
(PutObject, UploadPart, CompleteMultipartUpload, POST Object).
"""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from .clientfiles import bucket, make_s3  # noqa: F401 (fixtures)

JS = pathlib.Path(__file__).with_name("js")
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def js_sdk():
    """`npm ci` in tests/clients/js when the installed packages are not the lock file's."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.fail("The JavaScript SDK tests need Node.js and npm, and they are not installed. On "
                    "Debian/Ubuntu, as root: `apt-get install nodejs npm` (`.ci/run` does this).",
                    pytrace=False)
    lock = (JS / "package-lock.json").read_bytes()
    stamp = JS / "node_modules" / ".installed-lock-sha256"
    wanted = hashlib.sha256(lock).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
        stamp.write_text(wanted)
    return node


@pytest.fixture
def bucket(aws, name):
    aws("s3").create_bucket(Bucket=name)
    return name


def run(node, action, endpoint, bucket, key, path):
    done = subprocess.run([node, str(JS / "run.mjs"), action, endpoint, bucket, key, str(path)],
                          capture_output=True, text=True, timeout=300, cwd=JS)
    lines = done.stdout.strip().splitlines()
    assert lines, f"{action} printed nothing:\n{done.stderr}"
    result = json.loads(lines[-1])
    assert done.returncode == 0 and "error" not in result, f"{action}: {result}\n{done.stderr[-2000:]}"
    return result


def data_file(tmp_path, size):
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(size))
    return path


def read_back(aws, bucket, key):
    return aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize("action, size", [("putBuffer", 3 * MiB + 1), ("putStream", 3 * MiB + 7),
                                          ("putStream", 0), ("presignedPut", 2 * MiB + 3),
                                          ("presignedPost", 1 * MiB + 5)])
def test_single_request_uploads(js_sdk, endpoint, aws, bucket, tmp_path, action, size):
    path = data_file(tmp_path, size)
    result = run(js_sdk, action, endpoint, bucket, "js/object.bin", path)
    data = path.read_bytes()
    assert read_back(aws, bucket, "js/object.bin") == data
    if action in ("presignedPut", "presignedPost"):
        assert result["status"] in (200, 204), result
    assert result["etag"] == f'"{hashlib.md5(data).hexdigest()}"'


def test_lib_storage_upload_of_40_mib(js_sdk, endpoint, aws, bucket, tmp_path):
    """lib-storage's Upload: multipart with CRC32 part checksums, parts in parallel; it failed
    with InvalidPart at Complete while the data plane sent each checksum header twice."""
    path = data_file(tmp_path, 40 * MiB + 11)
    result = run(js_sdk, "upload", endpoint, bucket, "js/big.bin", path)
    assert result["etag"].strip('"').endswith("-9")  # 5 MiB parts (lib-storage's default)
    assert read_back(aws, bucket, "js/big.bin") == path.read_bytes()


def test_presigned_get(js_sdk, endpoint, aws, bucket, tmp_path):
    path = data_file(tmp_path, 3 * MiB + 9)
    aws("s3").put_object(Bucket=bucket, Key="js/get.bin", Body=path.read_bytes())
    result = run(js_sdk, "presignedGet", endpoint, bucket, "js/get.bin", path)
    assert "x-id=GetObject" in result["url"]
    assert result["status"] == 200 and result["same"] is True


def test_multipart_with_presigned_part_urls(js_sdk, endpoint, aws, bucket, tmp_path):
    path = data_file(tmp_path, 12 * MiB + 1)
    result = run(js_sdk, "presignedParts", endpoint, bucket, "js/parts.bin", path)
    assert result["status"] == 200 and result["parts"] == 3, result
    assert read_back(aws, bucket, "js/parts.bin") == path.read_bytes()
