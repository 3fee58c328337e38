"""Shared parts of the client matrix (tests/clients): real, unmodified S3 clients against the
local AWS; random files read back byte for byte (compared by SHA-256). Test modules import the
fixtures from here (a conftest.py in this folder would shadow tests/conftest.py, which other
test modules import by name)."""
import hashlib
import os
import uuid

import boto3
import pytest
from botocore.config import Config

MiB = 1024 * 1024


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def random_file(path, size: int):
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            n = min(remaining, 4 * MiB)
            f.write(os.urandom(n))
            remaining -= n
    return path




@pytest.fixture
def make_s3(endpoint):
    """boto3 S3 clients as a user makes them: default configuration unless told otherwise."""
    def make(**config):
        return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(**config) if config else None)
    return make


@pytest.fixture
def bucket(make_s3):
    name = "clients-" + uuid.uuid4().hex[:10]
    make_s3().create_bucket(Bucket=name)
    return name
