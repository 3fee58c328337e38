"""Fixtures for the client matrix: real, unmodified S3 clients against the local AWS.

Each test names the AWS documentation of what it checks; data is random and read back byte for
byte (compared by SHA-256, clientfiles.py)."""
import uuid

import boto3
import pytest
from botocore.config import Config


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
