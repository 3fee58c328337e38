"""S3 steps: a private upload bucket, and reading back what landed in it."""
from __future__ import annotations

import hashlib
from typing import Any

from ._names import tag_list


def create_upload_bucket(name: str, *, s3: Any, prefix: str) -> dict[str, str]:
    """Create a private bucket for uploads: Block Public Access on, SSE-S3 encryption, tagged.

        create_upload_bucket("s3wb-k3v9q2-uploads", s3=target.client("s3"), prefix="s3wb-k3v9q2")
    """
    region = s3.meta.region_name
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # us-east-1 is the one region that takes no LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(prefix)})
    return {"bucket": name, "arn": f"arn:aws:s3:::{name}", "region": region}


def list_keys(bucket: str, *, s3: Any) -> list[str]:
    """Every key in the bucket (all pages)."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def object_sha256(bucket: str, key: str, *, s3: Any) -> str:
    """SHA-256 of an object's bytes as stored, read in chunks."""
    digest = hashlib.sha256()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def empty_and_delete_bucket(bucket: str, *, s3: Any) -> int:
    """Delete every object version, abort unfinished multipart uploads, then the bucket.

    Returns how many objects were deleted. A bucket that no longer exists counts as done.
    """
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchBucket"):
            return 0
        raise
    deleted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                 for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if items:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": items, "Quiet": True})
            deleted += len(items)
    s3.delete_bucket(Bucket=bucket)
    return deleted


def bucket_contents(bucket: str, *, s3: Any) -> dict[str, int]:
    """What a bucket holds before clean-up: object versions (and delete markers), their bytes,
    and multipart uploads still in progress (their parts are stored and billed too)."""
    versions = size = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
        size += sum(v.get("Size", 0) for v in page.get("Versions", []))
    uploads = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        uploads += len(page.get("Uploads", []))
    return {"objects": versions, "bytes": size, "incomplete_uploads": uploads}
