"""The AWS CLI (v1, from PyPI: the `test` extra) against the local AWS as against S3, unmodified:
`s3 cp` up and down (multipart above 8 MiB), `s3 sync`, `s3 presign` fetched with curl, `s3 rm`,
and a multipart upload by `s3api` calls. Files are read back byte for byte (SHA-256).

https://docs.aws.amazon.com/cli/latest/userguide/cli-services-s3-commands.html
https://docs.aws.amazon.com/cli/latest/userguide/cli-services-s3-apicommands.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from .clientfiles import MiB, bucket, make_s3, random_file, sha256_file  # noqa: F401 (fixtures)

AWS = Path(sys.executable).parent / "aws"


@pytest.fixture
def aws_cli(endpoint, tmp_path):
    """Run `aws ...` with local credentials and no user configuration; returns stdout."""
    assert AWS.exists(), "the AWS CLI comes with the test extra: pip install -e '.[test]'"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials")}
    env.pop("AWS_PROFILE", None)

    def run(*args: str) -> str:
        done = subprocess.run([str(AWS), "--endpoint-url", endpoint, *args], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"aws {' '.join(args)}\n{done.stdout}\n{done.stderr}"
        return done.stdout
    return run


def test_s3_cp_up_and_down_40_mib(aws_cli, bucket, tmp_path):
    """`aws s3 cp` uploads in 8 MiB parts (multipart_threshold) and downloads in ranged GETs.
    Before: InvalidPart at CompleteMultipartUpload (each checksum header was sent twice)."""
    source = random_file(tmp_path / "big.bin", 40 * MiB)
    aws_cli("s3", "cp", str(source), f"s3://{bucket}/big.bin")
    head = json.loads(aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "big.bin"))
    assert head["ContentLength"] == 40 * MiB and head["ETag"].endswith('-5"')
    aws_cli("s3", "cp", f"s3://{bucket}/big.bin", str(tmp_path / "back.bin"))
    assert sha256_file(tmp_path / "back.bin") == sha256_file(source)


def test_s3_sync_up_down_and_nothing_twice(aws_cli, bucket, tmp_path):
    local = tmp_path / "local"
    (local / "sub").mkdir(parents=True)
    files = {"a.txt": 10, "sub/b.bin": 3 * MiB, "sub/c.bin": 9 * MiB}
    for name, size in files.items():
        random_file(local / name, size)
        # sync re-uploads a file whose mtime is newer than the object's LastModified, which S3
        # lists to the second: a file written in the same second as its upload would look newer.
        past = time.time() - 60
        os.utime(local / name, (past, past))
    out = aws_cli("s3", "sync", str(local), f"s3://{bucket}/tree")
    assert out.count("upload:") == 3
    assert aws_cli("s3", "sync", str(local), f"s3://{bucket}/tree").strip() == ""  # up to date
    back = tmp_path / "back"
    aws_cli("s3", "sync", f"s3://{bucket}/tree", str(back))
    for name in files:
        assert sha256_file(back / name) == sha256_file(local / name)


def test_s3_presign_fetched_with_curl(aws_cli, bucket, tmp_path):
    curl = shutil.which("curl")
    assert curl, "curl is needed (Debian: apt-get install curl; .ci/run installs it)"
    source = random_file(tmp_path / "doc.bin", 2 * MiB)
    aws_cli("s3", "cp", str(source), f"s3://{bucket}/doc.bin")
    url = aws_cli("s3", "presign", f"s3://{bucket}/doc.bin", "--expires-in", "300").strip()
    subprocess.run([curl, "-sSf", "-o", str(tmp_path / "fetched.bin"), url], check=True, timeout=60)
    assert sha256_file(tmp_path / "fetched.bin") == sha256_file(source)
    tampered = subprocess.run([curl, "-s", "-o", os.devnull, "-w", "%{http_code}",
                               url.replace("doc.bin", "other.bin")], capture_output=True, text=True)
    assert tampered.stdout == "403"


def test_s3_rm_one_and_recursive(aws_cli, bucket, tmp_path):
    for name in ("keep/x", "gone/y", "gone/z"):
        aws_cli("s3", "cp", str(random_file(tmp_path / "f", 100)), f"s3://{bucket}/{name}")
    aws_cli("s3", "rm", f"s3://{bucket}/keep/x")
    aws_cli("s3", "rm", f"s3://{bucket}/gone", "--recursive")
    listed = json.loads(aws_cli("s3api", "list-objects-v2", "--bucket", bucket) or "{}")
    assert listed.get("Contents", []) == []


def test_s3api_multipart_upload(aws_cli, bucket, tmp_path):
    """create-multipart-upload, upload-part, complete-multipart-upload with the ETags and
    checksums that upload-part printed."""
    parts = [random_file(tmp_path / "p1", 5 * MiB), random_file(tmp_path / "p2", 1 * MiB)]
    upload_id = json.loads(aws_cli("s3api", "create-multipart-upload", "--bucket", bucket, "--key", "mp.bin",
                                   "--checksum-algorithm", "SHA256"))["UploadId"]
    listed = []
    for number, part in enumerate(parts, 1):
        answer = json.loads(aws_cli("s3api", "upload-part", "--bucket", bucket, "--key", "mp.bin",
                                    "--upload-id", upload_id, "--part-number", str(number),
                                    "--body", str(part), "--checksum-algorithm", "SHA256"))
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})
    (tmp_path / "parts.json").write_text(json.dumps({"Parts": listed}))
    done = json.loads(aws_cli("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "mp.bin",
                              "--upload-id", upload_id, "--multipart-upload", f"file://{tmp_path / 'parts.json'}"))
    assert done["ETag"].endswith('-2"') and done["ChecksumSHA256"].endswith("-2")
    aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "mp.bin", str(tmp_path / "mp.back"))
    with open(tmp_path / "joined", "wb") as joined:
        for part in parts:
            joined.write(part.read_bytes())
    assert sha256_file(tmp_path / "mp.back") == sha256_file(tmp_path / "joined")
